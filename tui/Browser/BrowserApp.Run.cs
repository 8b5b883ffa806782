using System.Runtime.InteropServices;
using Ether.Replay.Tui.Host;
using Terminal.Gui.App;

namespace Ether.Replay.Tui;

public sealed partial class BrowserApp
{
    /// <summary>
    /// Opens <paramref name="tracePath"/> and runs the browser until the user quits. A trace that cannot
    /// be opened is reported before the screen changes; anything that goes wrong inside is reported after
    /// the terminal is restored (Terminal.Gui's alternate screen swallows what is printed while it runs).
    /// Quit keys, Ctrl-C, SIGINT and SIGTERM all end the same way: the terminal is left as it was found.
    /// </summary>
    public static int Run(string tracePath, TextWriter error)
    {
        BrowserSession session;
        try
        {
            session = BrowserSession.Open(tracePath);
        }
        catch (BrowserOpenException e)
        {
            error.WriteLine($"ether: {e.Message}");
            return 1;
        }
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
        {
            session.Dispose();
            error.WriteLine("ether: tui needs a terminal: run it with standard input and output on a terminal (not a pipe or file)");
            return 1;
        }

        Exception? failure = null;
        string? warning = session.Warning;
        using (session)
        {
            try
            {
                using var terminal = TerminalApplication.Start();
                IApplication app = terminal.App;
                void Stop(PosixSignalContext context)
                {
                    context.Cancel = true;
                    app.Invoke(() => app.RequestStop());
                }
                // SIGHUP keeps its default (exit at once): the terminal is gone, there is nothing to restore,
                // and shutting Terminal.Gui down against a dead terminal can hang.
                using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
                using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
                using var window = new BrowserApp(app, session);
                if (Environment.GetEnvironmentVariable(FaultVariable) == "throw")
                    app.AddTimeout(TimeSpan.FromMilliseconds(300), () => throw new InvalidOperationException($"{FaultVariable}=throw: a fault injected to test that the terminal is restored"));
                app.Run(window);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }
        if (failure != null)
        {
            error.WriteLine($"ether: the browser failed: {failure.GetType().Name}: {BrowserSession.OneLine(failure)} (the terminal was restored; please report this)");
            return 1;
        }
        if (warning != null) error.WriteLine($"ether: warning: {tracePath}: the trace is cut or damaged ({warning}); the browser showed its readable prefix");
        return 0;
    }

    /// <summary>Set to "throw" to make the browser fail shortly after it starts (tests of the terminal restore).</summary>
    public const string FaultVariable = "ETHER_TUI_FAULT";
}
