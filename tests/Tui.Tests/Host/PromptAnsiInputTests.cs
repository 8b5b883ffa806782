using System.Diagnostics;
using System.IO.Pipes;
using Ether.Replay.Tui.Host;

namespace Ether.Replay.Tui.Tests.Host;

/// <summary>
/// The browser's keyboard input waits for a key in poll(2) rather than sleeping between looks. These
/// tests give it a pipe in place of the terminal and a 10 s wait: a byte on the pipe, or Stop, must end
/// the wait at once (well before the 10 s a missing wake-up would take). Off a terminal the base input
/// reads nothing, so Peek then answers false: what is checked is when it answers.
/// </summary>
public sealed class PromptAnsiInputTests
{
    private const int LongWait = 10_000;

    [Fact]
    public void The_browser_reads_keys_through_the_prompt_input()
    {
        // Terminal.Gui takes the input only through a private field (see TerminalApplication): a version that
        // renames it, or stops reading it, would silently bring back the 20 ms sleep between looks at the keyboard.
        Assert.True(TerminalApplication.CanUsePromptInput, "Terminal.Gui no longer lets the browser install its prompt input");
        using var terminal = TerminalApplication.Start(); // off a terminal: Terminal.Gui's degraded mode, same input thread
        var w = Stopwatch.StartNew();
        while (terminal.Input is not { Waits: > 0 })
        {
            Assert.True(w.Elapsed < TimeSpan.FromSeconds(10), "Terminal.Gui's input thread never asked the prompt input for keys");
            Thread.Sleep(10);
        }
    }

    [Fact]
    public void A_byte_on_the_input_ends_the_wait()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var input = new PromptAnsiInput((int)pipe.ClientSafePipeHandle.DangerousGetHandle(), LongWait);
        var peek = new PeekThread(input);
        WaitUntilWaiting(input);
        pipe.WriteByte((byte)'x');
        pipe.Flush();
        Assert.True(peek.Join(TimeSpan.FromSeconds(5)), "Peek still waited 5 s after a byte arrived");
    }

    [Fact]
    public void Stop_ends_a_wait_at_once_and_every_later_one()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var input = new PromptAnsiInput((int)pipe.ClientSafePipeHandle.DangerousGetHandle(), LongWait);
        var peek = new PeekThread(input);
        WaitUntilWaiting(input);
        input.Stop();
        Assert.True(peek.Join(TimeSpan.FromSeconds(5)), "Peek still waited 5 s after Stop");
        Assert.False(peek.Result);

        var again = Stopwatch.StartNew();
        Assert.False(input.Peek());
        Assert.Equal(1, input.Waits); // no new wait after Stop
        Assert.True(again.Elapsed < TimeSpan.FromSeconds(5));
    }

    /// <summary>One Peek on a thread of its own (the input thread's part).</summary>
    private sealed class PeekThread
    {
        private readonly Thread _thread;

        public PeekThread(PromptAnsiInput input)
        {
            _thread = new Thread(() => Result = input.Peek()) { IsBackground = true };
            _thread.Start();
        }

        public bool Result { get; private set; }

        public bool Join(TimeSpan timeout) => _thread.Join(timeout);
    }

    private static void WaitUntilWaiting(PromptAnsiInput input)
    {
        var w = Stopwatch.StartNew();
        while (input.Waits == 0)
        {
            Assert.True(w.Elapsed < TimeSpan.FromSeconds(5), "Peek never started waiting");
            Thread.Sleep(5);
        }
        Thread.Sleep(50); // inside poll(2) by now
    }
}
