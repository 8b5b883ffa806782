using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace Ether.Replay.Tui.Views;

/// <summary>Key helpers: the character a key types (for single-letter commands), if it is one; what Enter does on a view.</summary>
internal static class Keys
{
    /// <summary>'s', 'S', ':', '5' — or '\0' for keys that type nothing (F-keys, arrows, Ctrl/Alt chords).</summary>
    public static char Char(Key key)
    {
        if (key.IsCtrl || key.IsAlt) return '\0';
        int value = key.AsRune.Value;
        return value is >= 0x20 and < 0xffff and not 0x7f ? (char)value : '\0';
    }

    /// <summary>Enter on <paramref name="view"/> (Terminal.Gui's Accepting) runs <paramref name="action"/>
    /// and is handled there: no default button or enclosing view acts on it too.</summary>
    public static void OnEnter(View view, Action action) => view.Accepting += (_, e) =>
    {
        e.Handled = true;
        action();
    };
}
