using Ether.Replay.Tui.Host;
using Terminal.Gui.App;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Bench;

/// <summary>
/// The TUI bench's framework baseline: the smallest Terminal.Gui program that shows each key it gets,
/// started and paced exactly as `ether tui` is. Its key-to-screen time is what Terminal.Gui itself
/// costs (input thread, main loop, one label drawn), so `ether tui`'s times can be read against it.
/// </summary>
internal static class TuiFloorApp
{
    public const string Ready = "floor ready";

    public static int Run(string[] args)
    {
        using var terminal = TerminalApplication.Start();
        IApplication app = terminal.App;
        using var window = new Window { Title = "Terminal.Gui floor" };
        var label = new Label { X = 0, Y = 0, Width = Dim.Fill(), Text = Ready };
        window.Add(label);
        int count = 0;
        app.Keyboard.KeyDown += (_, key) =>
        {
            if (key == Key.Q) app.RequestStop();
            else label.Text = $"key {++count}: {key}";
            key.Handled = true;
        };
        app.Run(window);
        return 0;
    }
}
