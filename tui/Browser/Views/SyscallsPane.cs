using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>
/// The syscalls pane: every system call strace-style (step, thread, call = result), a filter line that
/// narrows the list as the user types, Enter to move the instruction view to the call.
/// </summary>
internal sealed class SyscallsPane : Pane
{
    private readonly SyscallsModel _model;
    private readonly StepCursor _cursor;
    private readonly Action<JumpResult> _report;
    private readonly Func<string> _loading;
    private readonly TextField _filter;
    private readonly TableView _table;
    private readonly Label _empty;

    public SyscallsPane(SyscallsModel model, StepCursor cursor, Action<JumpResult> report, Func<string> loading) : base(PaneId.Syscalls)
    {
        _model = model;
        _cursor = cursor;
        _report = report;
        _loading = loading;
        SetTitle("Syscalls");
        var label = new Label { X = 0, Y = 0, Text = "filter:" };
        _filter = new TextField { X = Pos.Right(label) + 1, Y = 0, Width = Dim.Fill() };
        _filter.TextChanged += (_, _) =>
        {
            _model.SetFilter(_filter.Text);
            TableLook.Changed(_table!);
            UpdateTitle();
        };
        Keys.OnEnter(_filter, Jump);
        _table = TableLook.Plain(new RowsTableSource(["step", "tid", "call"], () => _model.Visible.Count, Cell));
        _table.Y = 1;
        _table.Height = Dim.Fill();
        TableLook.Column(_table, 0, 7, 13, right: true);
        TableLook.Column(_table, 1, 3, 7);
        Keys.OnEnter(_table, Jump);
        _empty = new TextLabel { X = 0, Y = 2, Width = Dim.Fill(), Text = "" };
        Add(label, _filter, _table, _empty);
    }

    public override View Primary => _filter;

    private string? Cell(int row, int column)
    {
        var item = _model.Visible[row];
        return column switch { 0 => item.Step.ToString("N0"), 1 => item.Tid.ToString(), _ => item.Call };
    }

    private void UpdateTitle() =>
        SetTitle(_model.Loaded ? $"Syscalls {_model.Visible.Count:N0}/{_model.Total:N0}" : "Syscalls");

    /// <summary>The export arrived (or its load status changed).</summary>
    public override void Refresh()
    {
        // Follow the cursor: the first call at or after it, unless the user is in the list.
        if (_model.Visible.Count > 0 && !_table.HasFocus && TableLook.Row(_table) != _model.RowAtOrAfter(_cursor.Step))
            _table.SetSelection(0, _model.RowAtOrAfter(_cursor.Step), false);
        string empty = _model.Loaded ? (_model.Visible.Count == 0 ? (_model.Total == 0 ? "no system calls in this trace" : "no call matches the filter") : "") : _loading();
        if (_empty.Text != empty) _empty.Text = empty;
        if (_empty.Visible != empty.Length > 0) _empty.Visible = empty.Length > 0;
        UpdateTitle();
    }

    public void Loaded()
    {
        TableLook.Changed(_table);
        Refresh();
    }

    private void Jump()
    {
        int row = _filter.HasFocus ? 0 : TableLook.Row(_table);
        if (_model.StepOf(row) is not { } step)
        {
            _report(JumpResult.Stay(_model.Loaded ? "no system call selected" : _loading()));
            return;
        }
        var item = _model.Visible[row];
        _report(_cursor.GoTo(step, $"{item.Call} at step {step:N0}"));
    }

    public override bool HandleKey(Key key, bool typing)
    {
        if (_filter.HasFocus && key == Key.CursorDown)
        {
            _table.SetFocus();
            return true;
        }
        if (_table.HasFocus && key == Key.CursorUp && TableLook.Row(_table) <= 0)
        {
            _filter.SetFocus();
            return true;
        }
        if (_table.HasFocus && Keys.Char(key) == '/')
        {
            _filter.SetFocus();
            return true;
        }
        if (_table.HasFocus && key == Key.Enter)
        {
            Jump();
            return true;
        }
        if (_table.HasFocus && Keys.Char(key) is var c and not '\0')
        {
            // Typing on the list goes on filtering.
            _filter.SetFocus();
            _filter.Text += c;
            _filter.MoveEnd();
            return true;
        }
        return false;
    }
}
