using System.Reflection;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;

namespace Ether.Replay.Tui.Host;

/// <summary>
/// The Terminal.Gui application the browser runs in, set up for latency: the main loop's rate, the
/// prompt keyboard input (<see cref="PromptAnsiInput"/>) and a fix for the cursor being re-sent on every
/// iteration. Disposing it stops the input's wait first, then shuts Terminal.Gui down (restoring the terminal).
/// </summary>
public sealed class TerminalApplication : IDisposable
{
    /// <summary>Main-loop rate: a key's effect is drawn within one iteration (10 ms). Measured under tmux on
    /// 2 cores before the input and cursor fixes: 50/s gave a mean key-to-screen time of ~95 ms, 100/s ~60-80 ms.</summary>
    public const ushort IterationsPerSecond = 100;

    // Terminal.Gui 2.5 takes a component factory (which makes the input) only through an internal constructor that
    // its own tests use; Application.Create() leaves this field null and then builds its default ANSI factory.
    // If a later version renames it, the browser falls back to that default (keys then wait up to 20 ms longer)
    // and the test `The_browser_reads_keys_through_the_prompt_input` fails.
    private static readonly FieldInfo? FactoryField =
        typeof(Application).Assembly.GetType("Terminal.Gui.App.ApplicationImpl")?.GetField("_componentFactory", BindingFlags.NonPublic | BindingFlags.Instance);

    private readonly PromptInputFactory? _factory;

    private TerminalApplication(IApplication app, PromptInputFactory? factory)
    {
        App = app;
        _factory = factory;
    }

    public IApplication App { get; }

    /// <summary>The prompt input when Terminal.Gui took it (null: Terminal.Gui's default input is in use).</summary>
    internal PromptAnsiInput? Input => _factory?.Input;

    /// <summary>Whether this Terminal.Gui lets the browser install its prompt input.</summary>
    internal static bool CanUsePromptInput => FactoryField != null && FactoryField.FieldType.IsAssignableFrom(typeof(PromptInputFactory)) && !OperatingSystem.IsWindows();

    /// <summary>Creates and initialises the application on the current terminal.</summary>
    public static TerminalApplication Start()
    {
        // Terminal.Gui runs at most 25 iterations a second by default: up to 40 ms before a key shows.
        Application.MaximumIterationsPerSecond = IterationsPerSecond;
        IApplication app = Application.Create();
        PromptInputFactory? factory = null;
        if (CanUsePromptInput)
        {
            factory = new PromptInputFactory();
            FactoryField!.SetValue(app, factory);
        }
        try
        {
            app.Init();
        }
        catch
        {
            app.Dispose();
            throw;
        }
        // Terminal.Gui 2.5 never lowers its "cursor needs update" flag once it is raised, so it re-sends
        // "hide cursor, move to 1,1" on every iteration: 100 writes a second to an idle terminal (over SSH too).
        // Lower it as each iteration starts; whatever moves or shows the cursor during the iteration raises it again.
        app.Iteration += (_, _) => app.Driver?.SetCursorNeedsUpdate(false);
        return new TerminalApplication(app, factory);
    }

    public void Dispose()
    {
        _factory?.Input?.Stop();
        App.Dispose();
    }

    /// <summary>Terminal.Gui's ANSI driver with <see cref="PromptAnsiInput"/> as its keyboard input.</summary>
    private sealed class PromptInputFactory : AnsiComponentFactory
    {
        private volatile PromptAnsiInput? _input;

        /// <summary>Made on Terminal.Gui's input thread, read by whoever stops it.</summary>
        public PromptAnsiInput? Input => _input;

        public override IInput<char> CreateInput() => _input = new PromptAnsiInput();
    }
}
