using System.Runtime.InteropServices;
using Terminal.Gui.Drivers;

namespace Ether.Replay.Tui.Host;

/// <summary>
/// Terminal.Gui's ANSI keyboard input, read the moment a key arrives. Terminal.Gui 2.5's input thread
/// asks <see cref="Peek"/> and, when nothing is waiting, sleeps 20 ms before asking again: a key waited
/// 0-20 ms (10 on average) before it was even read. Here an empty Peek waits in poll(2) on the terminal
/// for up to a second instead, so a key is read as it lands; a second descriptor
/// (a pipe) lets <see cref="Stop"/> end the wait at once when the browser quits.
/// </summary>
internal sealed partial class PromptAnsiInput : AnsiInput
{
    /// <summary>Longest wait in one Peek: bounds how long shutting down can take if <see cref="Stop"/> is never called.</summary>
    public const int DefaultWaitMilliseconds = 1000;

    private const short PollIn = 0x001;
    private const int CloseOnExec = 0x80000; // O_CLOEXEC

    private readonly int _input, _waitMilliseconds;
    private readonly int _wakeRead = -1, _wakeWrite = -1;
    private volatile bool _stopping;

    /// <param name="input">The descriptor to wait on: the terminal's standard input (tests pass a pipe).</param>
    /// <param name="waitMilliseconds">The longest wait in one Peek.</param>
    public PromptAnsiInput(int input = 0, int waitMilliseconds = DefaultWaitMilliseconds)
    {
        _input = input;
        _waitMilliseconds = waitMilliseconds;
        Span<int> fds = stackalloc int[2];
        if (pipe2(fds, CloseOnExec) == 0) // not inherited by anything the browser starts
        {
            _wakeRead = fds[0];
            _wakeWrite = fds[1];
        }
    }

    /// <summary>How many Peeks waited for input in poll(2) (for tests: shows that this input is the one in use).</summary>
    public int Waits => Volatile.Read(ref _waits);

    private int _waits;

    public override bool Peek()
    {
        if (base.Peek()) return true;
        if (_stopping || _wakeRead < 0) return false;
        Span<PollFd> fds = [new() { Fd = _input, Events = PollIn }, new() { Fd = _wakeRead, Events = PollIn }];
        Interlocked.Increment(ref _waits);
        // EINTR, a hang-up or an error all end the wait early: the caller's loop sleeps and asks again.
        _ = poll(fds, (nuint)fds.Length, _waitMilliseconds);
        return !_stopping && base.Peek();
    }

    /// <summary>Ends a wait in progress and every later one: the input thread then stops within its own 20 ms.</summary>
    public void Stop()
    {
        _stopping = true;
        if (_wakeWrite >= 0) _ = write(_wakeWrite, [1], 1);
    }

    public override void Dispose()
    {
        base.Dispose();
        if (_wakeRead >= 0) _ = close(_wakeRead);
        if (_wakeWrite >= 0) _ = close(_wakeWrite);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(Span<PollFd> fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(Span<int> fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, ReadOnlySpan<byte> buffer, nuint count);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
