using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>
/// A framed pane of the browser: a title that says which F-key focuses it, the view that takes focus
/// when the pane does, the pane's own keys (asked by the window before Terminal.Gui's bindings), and
/// a refresh when the cursor moves or background work lands.
/// </summary>
internal abstract class Pane : FrameView
{
    protected Pane(PaneId id)
    {
        Kind = id;
        CanFocus = true;
        TabStop = TabBehavior.TabGroup;
        BorderStyle = LineStyle.Rounded;
    }

    public PaneId Kind { get; }

    /// <summary>The view inside the pane that gets the focus.</summary>
    public abstract View Primary { get; }

    /// <summary>A key while this pane has the focus; <paramref name="typing"/> when a text field has it.
    /// Returns true when handled.</summary>
    public virtual bool HandleKey(Key key, bool typing) => false;

    /// <summary>The cursor moved or data arrived: redraw from the view models.</summary>
    public virtual void Refresh() { }

    public void FocusPrimary()
    {
        if (!Primary.HasFocus) Primary.SetFocus();
    }

    public static string FKey(PaneId id) => id switch
    {
        PaneId.Instructions => "F2",
        PaneId.Registers => "F3",
        PaneId.Memory => "F4",
        PaneId.Syscalls => "F5",
        PaneId.Layers => "F6",
        _ => "F7",
    };

    protected void SetTitle(string text)
    {
        string title = $"{text} [{FKey(Kind)}]";
        if (Title != title) Title = title;
    }
}
