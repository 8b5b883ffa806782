using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>Every key (<see cref="KeyHelp"/>) in a box over the panes; Up/Down/PgUp/PgDn scroll, Esc, ? or F1 close it.</summary>
internal sealed class HelpOverlay : FrameView
{
    private readonly string[] _lines = KeyHelp.Text().TrimEnd().Split('\n');
    private readonly HelpText _text;
    private int _top;

    public HelpOverlay()
    {
        Title = "Keys (Esc closes; Up/Down/PgUp/PgDn scroll)";
        BorderStyle = LineStyle.Double;
        X = 1;
        Y = 0;
        Width = Dim.Fill(1);
        Height = Dim.Fill(2);
        Visible = false;
        CanFocus = true;
        _text = new HelpText(this) { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        Add(_text);
    }

    public bool IsOpen => Visible;

    public void Open()
    {
        Visible = true;
        _top = 0;
        _text.SetFocus();
    }

    public void Close() => Visible = false;

    public bool Scroll(Key key)
    {
        int page = Math.Max(1, _text.Viewport.Height - 1);
        int max = Math.Max(0, _lines.Length - _text.Viewport.Height);
        int top = key == Key.CursorDown ? _top + 1 : key == Key.CursorUp ? _top - 1 : key == Key.PageDown ? _top + page : key == Key.PageUp ? _top - page : -1;
        if (top == -1 && key != Key.CursorUp && key != Key.PageUp) return false;
        _top = Math.Clamp(top, 0, max);
        _text.SetNeedsDraw();
        return true;
    }

    private sealed class HelpText(HelpOverlay overlay) : View
    {
        protected override bool OnDrawingContent(DrawContext? context)
        {
            SetAttribute(GetAttributeForRole(VisualRole.Normal));
            for (int y = 0; y < Viewport.Height && overlay._top + y < overlay._lines.Length; y++)
                AddStr(0, y, overlay._lines[overlay._top + y].TrimEnd('\r'));
            return true;
        }
    }
}
