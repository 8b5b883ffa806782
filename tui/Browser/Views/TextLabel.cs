namespace Ether.Replay.Tui.Views;

/// <summary>A label for text from the trace: an underscore in it is text, not a hotkey marker (AT_FDCWD, file_name).</summary>
internal sealed class TextLabel : Terminal.Gui.Views.Label
{
    public TextLabel() => HotKeySpecifier = new System.Text.Rune(0xFFFF);
}
