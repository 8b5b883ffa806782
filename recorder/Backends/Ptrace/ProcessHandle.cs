using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// A pidfd on one of the recorder's own children (the sandbox shell): it waits for the process's
/// exit without polling, and its signals reach that process or nothing — never another process
/// that got the pid after the tracer thread reaped it. <see cref="Kill"/> may be called from any
/// thread (a stop request), also while or after the handle is disposed.
/// </summary>
internal sealed unsafe class ProcessHandle : IDisposable
{
    private readonly object _gate = new();
    private int _fd;

    private ProcessHandle(int fd) => _fd = fd;

    /// <summary>A handle on <paramref name="pid"/>, or null when there is none (the process was reaped, or pidfds are unavailable).</summary>
    public static ProcessHandle? Open(int pid)
    {
        int fd = LibC.PidfdOpen(pid);
        return fd < 0 ? null : new ProcessHandle(fd);
    }

    /// <summary>Sends <paramref name="signal"/>; false once disposed or when the process is gone.</summary>
    public bool Kill(int signal)
    {
        lock (_gate) return _fd >= 0 && LibC.PidfdSendSignal(_fd, signal) == 0;
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for the process to exit (it is then a zombie, for waitpid to reap); true when it has.</summary>
    public bool WaitExit(int timeoutMs)
    {
        var poll = new PollFd { Fd = _fd, Events = LibC.POLLIN };
        long deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            int r = LibC.Poll(&poll, 1, left);
            if (r > 0) return true;
            if (r == 0 || System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.EINTR) return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_fd >= 0) LibC.Close(_fd);
            _fd = -1;
        }
    }
}
