using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>
/// The SQL console: a query line (Enter runs it, Up/Down walk the history), a line saying how many
/// rows came back (or DuckDB's error), and the result grid; Enter on a row with a step column moves
/// the instruction view there.
/// </summary>
internal sealed class SqlPane : Pane
{
    private readonly SqlConsoleModel _model;
    private readonly StepCursor _cursor;
    private readonly Action<JumpResult> _report;
    private readonly TextField _query;
    private readonly Label _summary;
    private readonly TableView _table;

    public SqlPane(SqlConsoleModel model, StepCursor cursor, Action<JumpResult> report) : base(PaneId.Sql)
    {
        _model = model;
        _cursor = cursor;
        _report = report;
        SetTitle("SQL");
        var label = new Label { X = 0, Y = 0, Text = "sql>" };
        _query = new TextField { X = Pos.Right(label) + 1, Y = 0, Width = Dim.Fill() };
        Keys.OnEnter(_query, () => _ = RunAsync());
        _summary = new TextLabel { X = 0, Y = 1, Width = Dim.Fill(), Text = model.Summary() };
        _table = TableLook.Plain(new RowsTableSource([], () => 0, (_, _) => null));
        _table.Y = 2;
        _table.Height = Dim.Fill();
        Keys.OnEnter(_table, Jump);
        Add(label, _query, _summary, _table);
    }

    public override View Primary => _query;

    private async Task RunAsync()
    {
        _summary.Text = "running…";
        await _model.RunAsync(_query.Text);
        _summary.Text = _model.Summary();
        if (_model.Result is { } r && _model.Error == null)
        {
            _table.Table = new RowsTableSource(r.Columns.ToArray(), () => r.Rows.Count, (row, col) => r.Rows[row][col]);
            for (int c = 0; c < r.Columns.Count; c++) TableLook.Column(_table, c, Math.Min(r.Columns[c].Length, 20), 40);
            _table.Update();
            if (r.Rows.Count > 0) _table.SetFocus();
        }
    }

    private void Jump()
    {
        int row = TableLook.Row(_table);
        if (_model.StepOf(row) is { } step) _report(_cursor.GoTo(step, $"SQL row {row + 1}: step {step:N0}"));
        else _report(JumpResult.Stay(_model.Result?.StepColumn == null ? "this result has no step column to jump to" : "no step in this row"));
    }

    public override bool HandleKey(Key key, bool typing)
    {
        if (_query.HasFocus && key == Key.CursorUp)
        {
            if (_model.PreviousQuery() is { } q) SetQuery(q);
            return true;
        }
        if (_query.HasFocus && key == Key.CursorDown)
        {
            if (_model.NextQuery() is { } q) SetQuery(q);
            return true;
        }
        if (_table.HasFocus && key == Key.Enter)
        {
            Jump();
            return true;
        }
        if (_table.HasFocus && (Keys.Char(key) == '/' || key == Key.CursorUp && TableLook.Row(_table) <= 0))
        {
            _query.SetFocus();
            return true;
        }
        return false;
    }

    private void SetQuery(string text)
    {
        _query.Text = text;
        _query.MoveEnd();
    }
}
