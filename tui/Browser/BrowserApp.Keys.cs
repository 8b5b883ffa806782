using Ether.Replay.Tui.Views;
using Terminal.Gui.Input;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui;

/// <summary>
/// The keys, asked before Terminal.Gui's own bindings: first the open overlay (help, go-to), then the
/// keys that work everywhere (F-keys and Ctrl chords even while typing; single letters only when no
/// text field has the focus), then the focused pane. Esc never quits: it leaves a text field, closes
/// an overlay or unzooms.
/// </summary>
public sealed partial class BrowserApp
{
    private void OnKeyDown(object? sender, Key key)
    {
        _session.User.KeyPressed();
        if (Handle(key)) key.Handled = true;
    }

    private bool Handle(Key key)
    {
        if (key == Key.C.WithCtrl || key == Key.Q.WithCtrl || key == Key.F10)
        {
            Quit();
            return true;
        }
        if (_help.IsOpen)
        {
            char h = Keys.Char(key);
            if (key == Key.Esc || key == Key.F1 || h is '?' or 'q')
            {
                ToggleHelp();
                return true;
            }
            _help.Scroll(key);
            return true; // nothing else while the help is open
        }
        if (_prompt.IsOpen) return _prompt.HandleKey(key);

        bool typing = MostFocused is TextField;
        var pane = FocusedPane();
        if (key == Key.F1)
        {
            ToggleHelp();
            return true;
        }
        if (FocusKey(key) is { } target)
        {
            Focus(target);
            return true;
        }
        if (key == Key.F8)
        {
            ToggleZoom(pane);
            return true;
        }
        if (key == Key.CursorLeft.WithCtrl || key == Key.CursorRight.WithCtrl)
        {
            MoveSplit(widen: key == Key.CursorRight.WithCtrl ? 1 : -1, heighten: 0);
            return true;
        }
        if (key == Key.CursorUp.WithCtrl || key == Key.CursorDown.WithCtrl)
        {
            MoveSplit(widen: 0, heighten: key == Key.CursorDown.WithCtrl ? 1 : -1);
            return true;
        }
        if (key == Key.Esc)
        {
            if (pane != null && pane.HandleKey(key, typing)) return true;
            if (typing) pane?.FocusPrimary();
            if (pane?.MostFocused is TextField) _instructions.FocusPrimary();
            else if (_layout.Zoomed != null) ToggleZoom(pane);
            return true;
        }
        if (!typing)
        {
            switch (Keys.Char(key))
            {
                case '?':
                    ToggleHelp();
                    return true;
                case 'q':
                    Quit();
                    return true;
                case 'z':
                    ToggleZoom(pane);
                    return true;
                case 'b':
                    Report(_cursor.Back());
                    return true;
                case '<':
                    MoveSplit(-1, 0);
                    return true;
                case '>':
                    MoveSplit(1, 0);
                    return true;
                case '-':
                    MoveSplit(0, -1);
                    return true;
                case '+' or '=':
                    MoveSplit(0, 1);
                    return true;
            }
        }
        return pane != null && pane.HandleKey(key, typing);
    }

    private static PaneId? FocusKey(Key key) =>
        key == Key.F2 ? PaneId.Instructions
        : key == Key.F3 ? PaneId.Registers
        : key == Key.F4 ? PaneId.Memory
        : key == Key.F5 ? PaneId.Syscalls
        : key == Key.F6 ? PaneId.Layers
        : key == Key.F7 ? PaneId.Sql
        : null;

    private void ToggleZoom(Pane? pane)
    {
        if (pane == null) return;
        _layout.ToggleZoom(pane.Kind);
        ApplyVisibility();
        pane.FocusPrimary();
    }

    private void MoveSplit(int widen, int heighten)
    {
        if (widen != 0) _layout.Widen(widen);
        if (heighten != 0) _layout.Heighten(heighten);
        SetNeedsLayout();
    }
}
