using Terminal.Gui.Drawing;
using Attribute = Terminal.Gui.Drawing.Attribute;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>
/// The memory pane: an address line (a number, a register, a register ± offset) over a hex view of the
/// selected step's process memory, 16, 8 or 4 bytes a line as the width allows, ?? for bytes the program
/// never touched, the bytes the step read highlighted, a byte cursor, and w / W for the last / next
/// write of the byte under it.
/// </summary>
internal sealed class MemoryPane : Pane
{
    private readonly StepCursor _cursor;
    private readonly MemoryModel _model;
    private readonly Func<RegisterState> _registers;
    private readonly Action<JumpResult> _report;
    private readonly TextField _address;
    private readonly HexGrid _grid;
    private MemoryWindow? _window;
    private string? _why;

    public MemoryPane(StepCursor cursor, MemoryModel model, Func<RegisterState> registers, Action<JumpResult> report) : base(PaneId.Memory)
    {
        _cursor = cursor;
        _model = model;
        _registers = registers;
        _report = report;
        SetTitle("Memory");
        var label = new Label { X = 0, Y = 0, Text = "address:" };
        _address = new TextField { X = Pos.Right(label) + 1, Y = 0, Width = Dim.Fill(), Text = model.Expression.Text };
        Keys.OnEnter(_address, () =>
        {
            if (_model.SetExpression(_address.Text) is { } error)
            {
                _report(JumpResult.Stay(error));
                return;
            }
            Refresh();
            _grid!.SetFocus();
        });
        _grid = new HexGrid(this) { X = 0, Y = 1, Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        Add(label, _address, _grid);
    }

    public override View Primary => _grid;

    /// <summary>Shows memory at <paramref name="expression"/> (a register name from the registers pane).</summary>
    public void Show(string expression)
    {
        _address.Text = expression;
        if (_model.SetExpression(expression) is { } error) _report(JumpResult.Stay(error));
        Refresh();
        FocusPrimary();
    }

    public override void Refresh()
    {
        _model.BytesPerLine = MemoryModel.BytesPerLineFor(_grid.Viewport.Width);
        _model.Lines = Math.Max(1, _grid.Viewport.Height - 1);
        var registers = _registers();
        _window = _model.Read(_cursor.Step, registers, out _why);
        if (!_address.HasFocus && _address.Text != _model.Expression.Text) _address.Text = _model.Expression.Text;
        SetTitle(_window != null ? $"Memory of pid {_window.Pid}" : "Memory");
        _grid.SetNeedsDraw();
    }

    public override bool HandleKey(Key key, bool typing)
    {
        if (typing)
        {
            if (key == Key.Esc && _address.HasFocus)
            {
                _address.Text = _model.Expression.Text;
                _grid.SetFocus();
                return true;
            }
            return false;
        }
        char c = Keys.Char(key);
        int perLine = _model.BytesPerLine;
        if (c == 'a' || key == Key.Enter)
        {
            _address.SetFocus();
            _address.SelectAll();
            return true;
        }
        if (c == 'w') _report(_model.LastWrite(_cursor, _window));
        else if (c == 'W') _report(_model.NextWrite(_cursor, _window));
        else if (key == Key.CursorLeft) Move(-1);
        else if (key == Key.CursorRight) Move(1);
        else if (key == Key.CursorUp) Move(-perLine);
        else if (key == Key.CursorDown) Move(perLine);
        else if (key == Key.PageUp) Move(-perLine * _model.Lines);
        else if (key == Key.PageDown) Move(perLine * _model.Lines);
        else return false;
        return true;
    }

    private void Move(long delta)
    {
        if (_window == null) return;
        _model.MoveCursor(delta);
        Refresh();
    }

    private sealed class HexGrid(MemoryPane pane) : View
    {
        protected override bool OnDrawingContent(DrawContext? context)
        {
            var normal = GetAttributeForRole(VisualRole.Normal);
            SetAttribute(normal);
            if (pane._window is not { } w)
            {
                AddStr(0, 0, pane._why ?? "");
                return true;
            }
            for (int line = 0; line < w.Lines && line < Viewport.Height - 1; line++)
                AddStr(0, line, w.Line(line));
            // The bytes the step's instruction read, in the hex column.
            var read = new Attribute(new Color(StandardColor.Cyan), normal.Background, TextStyle.Bold);
            int hexColumn = $"{w.Origin:x12}".Length + 1;
            for (int i = 0; i < w.ReadByStep.Length; i++)
            {
                if (!w.ReadByStep[i] || i / w.BytesPerLine >= Viewport.Height - 1) continue;
                SetAttribute(read);
                AddStr(hexColumn + i % w.BytesPerLine * 3, i / w.BytesPerLine, w.Bytes.Known[i] ? w.Bytes.Bytes[i].ToString("x2") : "??");
            }
            SetAttribute(normal);
            // The byte under the cursor, in the hex column.
            long offset = (long)(w.Cursor - w.Origin);
            if (offset >= 0 && offset < w.Bytes.Bytes.Length)
            {
                int line = (int)(offset / w.BytesPerLine), column = (int)(offset % w.BytesPerLine);
                int x = $"{w.Origin:x12}".Length + 1 + column * 3;
                SetAttribute(GetAttributeForRole(HasFocus ? VisualRole.Focus : VisualRole.Highlight));
                AddStr(x, line, w.Bytes.Known[offset] ? w.Bytes.Bytes[offset].ToString("x2") : "??");
                SetAttribute(normal);
                int known = 0;
                for (long i = offset; i < Math.Min(offset + 8, w.Bytes.Bytes.Length) && w.Bytes.Known[i]; i++) known++;
                string value = known == 8 ? $" = 0x{BitConverter.ToUInt64(w.Bytes.Bytes, (int)offset):x}" : "";
                AddStr(0, Math.Min(w.Lines, Viewport.Height - 1), $"0x{w.Cursor:x}{value}  (w: who wrote, W: next write{(w.ReadByStep.Contains(true) ? "; cyan: read by this step" : "")})");
            }
            return true;
        }
    }
}
