using Terminal.Gui.Drawing;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace Ether.Replay.Tui.Views;

/// <summary>
/// The registers pane: the selected step's thread after the step, in as many columns as fit, the
/// registers the step changed marked with * and highlighted, rflags spelled out. Up/Down picks a
/// register; Enter shows the memory it points to.
/// </summary>
internal sealed class RegistersPane : Pane
{
    private const int CellWidth = 26; // "orig_rax*0000000000000000" + a space
    private readonly Func<RegisterState> _state;
    private readonly Action<string> _showMemory;
    private readonly RegisterGrid _grid;
    private int _selected;

    public RegistersPane(Func<RegisterState> state, Action<string> showMemory) : base(PaneId.Registers)
    {
        _state = state;
        _showMemory = showMemory;
        SetTitle("Registers");
        _grid = new RegisterGrid(this) { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        Add(_grid);
    }

    public RegisterState State { get; private set; } = RegisterState.None(0, "");

    public override View Primary => _grid;

    public override void Refresh()
    {
        State = _state();
        SetTitle(State.Thread != null ? $"Registers after step {State.Step:N0} · tid {State.Tid}" : "Registers");
        _grid.SetNeedsDraw();
    }

    public override bool HandleKey(Key key, bool typing)
    {
        if (typing || State.Values.Count == 0) return false;
        int columns = Columns();
        if (key == Key.CursorUp) _selected = Math.Max(0, _selected - columns);
        else if (key == Key.CursorDown) _selected = Math.Min(State.Values.Count - 1, _selected + columns);
        else if (key == Key.CursorLeft) _selected = Math.Max(0, _selected - 1);
        else if (key == Key.CursorRight) _selected = Math.Min(State.Values.Count - 1, _selected + 1);
        else if (key == Key.Enter)
        {
            _showMemory(State.Values[_selected].Name);
            return true;
        }
        else return false;
        _grid.SetNeedsDraw();
        return true;
    }

    private int Columns() => Math.Max(1, _grid.Viewport.Width / CellWidth);

    /// <summary>Draws the cells; scrolls so the selected register stays in view.</summary>
    private sealed class RegisterGrid(RegistersPane pane) : View
    {
        protected override bool OnDrawingContent(DrawContext? context)
        {
            var state = pane.State;
            var normal = GetAttributeForRole(VisualRole.Normal);
            var changed = new Attribute(new Color(StandardColor.Yellow), normal.Background, TextStyle.Bold);
            var selected = GetAttributeForRole(HasFocus ? VisualRole.Focus : VisualRole.Normal);
            if (state.Values.Count == 0)
            {
                SetAttribute(normal);
                AddStr(0, 0, state.Note ?? "");
                return true;
            }
            int columns = pane.Columns();
            int lines = (state.Values.Count + columns - 1) / columns;
            int extra = 1 + (state.Note != null ? 1 : 0);
            int visible = Math.Max(1, Viewport.Height - extra);
            int first = Math.Clamp(pane._selected / columns - visible + 1, 0, Math.Max(0, lines - visible));
            for (int i = first * columns; i < state.Values.Count && i / columns - first < visible; i++)
            {
                var v = state.Values[i];
                int x = i % columns * CellWidth, y = i / columns - first;
                SetAttribute(i == pane._selected && HasFocus ? selected : v.Changed ? changed : normal);
                AddStr(x, y, $"{v.Name,-8}{(v.Changed ? '*' : ' ')}{v.Value:x16}");
            }
            SetAttribute(normal);
            int row = Math.Min(lines - first, visible);
            ulong rflags = state.Values.First(v => v.Name == "rflags").Value;
            AddStr(0, row, $"flags {RegistersModel.Flags(rflags)}");
            if (state.Note != null) AddStr(0, row + 1, state.Note);
            return true;
        }
    }
}
