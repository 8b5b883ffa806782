using System.Globalization;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>The "go to step" line: a small box over the panes; Enter jumps, Esc cancels.</summary>
internal sealed class GoToPrompt : FrameView
{
    private readonly TextField _field;
    private readonly Action<long> _go;
    private readonly Action<string> _error;
    private readonly Action _closed;

    public GoToPrompt(Action<long> go, Action<string> error, Action closed)
    {
        _go = go;
        _error = error;
        _closed = closed;
        Title = "Go to step (Enter: go, Esc: cancel)";
        BorderStyle = LineStyle.Double;
        X = Pos.Center();
        Y = Pos.Center();
        Width = 44;
        Height = 3;
        Visible = false;
        CanFocus = true;
        _field = new TextField { X = 0, Y = 0, Width = Dim.Fill() };
        Keys.OnEnter(_field, Submit);
        Add(_field);
    }

    public bool IsOpen => Visible;

    public void Open(string initial)
    {
        Visible = true;
        _field.Text = initial;
        _field.SetFocus();
        _field.MoveEnd();
    }

    public void Close()
    {
        Visible = false;
        _closed();
    }

    public bool HandleKey(Key key)
    {
        if (key == Key.Esc)
        {
            Close();
            return true;
        }
        if (key == Key.Enter)
        {
            Submit();
            return true;
        }
        return false;
    }

    private void Submit()
    {
        string text = _field.Text.Trim().Replace(",", "").Replace("_", "");
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long step)
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out step);
        Close();
        if (ok) _go(step);
        else _error($"{_field.Text}: not a step number");
    }
}
