using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>
/// The instructions pane: the trace as a virtual table (one row per step, paged around the viewport)
/// bound to the step cursor both ways: moving in the table moves the cursor, a jump moves the table.
/// Its keys are the jumps: g/: (step number), n/p (execution), s/S (system call), l/L (layer).
/// </summary>
internal sealed class InstructionsPane : Pane
{
    private readonly StepCursor _cursor;
    private readonly InstructionRows _rows;
    private readonly Action<JumpResult> _report;
    private readonly Action<string> _askStep;
    private readonly TableView _table;
    private bool _syncing;

    public InstructionsPane(StepCursor cursor, InstructionRows rows, Action<JumpResult> report, Action<string> askStep) : base(PaneId.Instructions)
    {
        _cursor = cursor;
        _rows = rows;
        _report = report;
        _askStep = askStep;
        SetTitle("Instructions");
        _table = new TableView
        {
            X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(),
            FullRowSelect = true,
            CollectionNavigator = null, // typing jumps (n, p, s, ...), never a search over millions of rows
            Table = new InstructionTableSource(rows),
        };
        _table.Style.ShowHorizontalHeaderOverline = false;
        _table.Style.ShowHorizontalHeaderUnderline = false;
        _table.Style.ShowVerticalHeaderLines = false;
        _table.Style.ShowVerticalCellLines = false;
        _table.Style.ShowHorizontalBottomLine = false;
        _table.Style.AlwaysShowHeaders = true;
        _table.Style.ExpandLastColumn = true;
        // Fixed widths: the table sizes columns from the rows on screen, so without them columns would shift while scrolling.
        Column(InstructionTableSource.StepColumn, 7, 13, Terminal.Gui.ViewBase.Alignment.End);
        Column(InstructionTableSource.TidColumn, 3, 7);
        Column(InstructionTableSource.AddressColumn, 8, 18);
        Column(InstructionTableSource.InstructionColumn, 16, 32);
        Column(InstructionTableSource.EventsColumn, 6, 64);
        _table.ValueChanged += (_, e) =>
        {
            if (_syncing || e.NewValue is not { } selection) return;
            _cursor.MoveTo(InstructionRows.StepOfRow(selection.SelectedCell.Y));
        };
        Add(_table);
    }

    public override View Primary => _table;

    private void Column(int column, int min, int max, Terminal.Gui.ViewBase.Alignment alignment = Terminal.Gui.ViewBase.Alignment.Start)
    {
        var style = _table.Style.GetOrCreateColumnStyle(column);
        style.MinWidth = min;
        style.MaxWidth = max;
        style.Alignment = alignment;
    }

    public override bool HandleKey(Key key, bool typing)
    {
        if (typing) return false;
        JumpResult? result = null;
        char c = Keys.Char(key);
        if (c is 'g' or ':') _askStep("");
        else if (c is >= '0' and <= '9') _askStep(c.ToString());
        else if (c == 'n') result = _cursor.NextExecution();
        else if (c == 'p') result = _cursor.PreviousExecution();
        else if (c == 's') result = _cursor.NextSyscall();
        else if (c == 'S') result = _cursor.PreviousSyscall();
        else if (c == 'l') result = _cursor.NextLayer();
        else if (c == 'L') result = _cursor.PreviousLayer();
        else if (key == Key.Home || key == Key.Home.WithCtrl) result = _cursor.GoTo(1, "first step");
        else if (key == Key.End || key == Key.End.WithCtrl) result = _cursor.GoTo(_cursor.LastStep, "last step");
        else return false;
        if (result is { } r) _report(r);
        return true;
    }

    /// <summary>Moves the table to the cursor: a step far from the screen lands a third of the way down.</summary>
    public override void Refresh()
    {
        if (_cursor.Step <= 0) return;
        int row = InstructionRows.RowOfStep(_cursor.Step);
        _syncing = true;
        try
        {
            int height = Math.Max(1, _table.Viewport.Height - 1); // less the header
            bool onScreen = row >= _table.RowOffset && row < _table.RowOffset + height;
            if (_table.Value?.SelectedCell.Y != row) _table.SetSelection(0, row, false);
            if (!onScreen)
            {
                _table.RowOffset = Math.Max(0, row - height / 3);
                _table.EnsureCursorIsVisible();
            }
        }
        finally
        {
            _syncing = false;
        }
    }

    /// <summary>On a narrow pane the thread and bytes columns give their room to the instruction and its events
    /// (the thread is in the status bar too).</summary>
    public void Fit()
    {
        bool wide = _table.Viewport.Width >= 64;
        var tid = _table.Style.GetOrCreateColumnStyle(InstructionTableSource.TidColumn);
        if (tid.Visible == wide) return;
        tid.Visible = wide;
        _table.Style.GetOrCreateColumnStyle(InstructionTableSource.InstructionColumn).MaxWidth = wide ? 32 : 24;
        _table.Update();
    }

    /// <summary>The layer changes arrived: their marks appear on the rows.</summary>
    public void MarkLayers(LayerChanges changes)
    {
        _rows.LayerChanges = changes;
        _table.SetNeedsDraw();
    }
}
