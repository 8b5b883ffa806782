using Ether.Replay.Formats.Memory;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>
/// The layers pane: the unpacking layers found (entry, region, bytes written and by whom, the
/// original-entry-point candidate marked *), Enter to jump to a layer's first instruction, d to dump
/// it; under them the memory map of the cursor's process at the cursor's step.
/// </summary>
internal sealed class LayersPane : Pane
{
    private readonly LayersModel _model;
    private readonly StepCursor _cursor;
    private readonly Func<int?> _pid;
    private readonly Action<JumpResult> _report;
    private readonly Func<string> _loading;
    private readonly TableView _table;
    private readonly Label _regions;

    public LayersPane(LayersModel model, StepCursor cursor, Func<int?> pid, Action<JumpResult> report, Func<string> loading) : base(PaneId.Layers)
    {
        _model = model;
        _cursor = cursor;
        _pid = pid;
        _report = report;
        _loading = loading;
        SetTitle("Layers & regions");
        _table = TableLook.Plain(new RowsTableSource(["layer", "pid", "arrival", "first step", "entry", "region", "written", "writers", "insns"], () => _model.Layers.Count, Cell));
        _table.Height = Dim.Percent(50);
        TableLook.Column(_table, 0, 5, 5, right: true);
        TableLook.Column(_table, 1, 3, 7);
        TableLook.Column(_table, 2, 6, 20);
        TableLook.Column(_table, 3, 10, 13, right: true);
        TableLook.Column(_table, 4, 8, 20);
        TableLook.Column(_table, 5, 12, 40);
        TableLook.Column(_table, 6, 7, 12, right: true);
        TableLook.Column(_table, 7, 7, 20);
        Keys.OnEnter(_table, () => _report(_model.JumpToFirst(_cursor, TableLook.Row(_table))));
        _regions = new TextLabel { X = 0, Y = Pos.Bottom(_table), Width = Dim.Fill(), Height = Dim.Fill(), Text = "" };
        Add(_table, _regions);
    }

    public override View Primary => _table;

    private string? Cell(int row, int column)
    {
        var l = _model.Layers[row];
        return column switch
        {
            0 => l.Layer.ToString(),
            1 => l.Pid.ToString(),
            2 => l.Arrival,
            3 => l.FirstStep.ToString("N0"),
            4 => $"0x{l.EntryAddress:x}{(l.OepCandidate && l.Layer > 0 ? " *" : "")}",
            5 => LayersModel.Region(l),
            6 => l.Layer == 0 ? "-" : l.FixupBytes > 0 ? $"{l.BytesWritten:N0}+{l.FixupBytes:N0} fixed" : l.BytesWritten.ToString("N0"),
            7 => l.Writers ?? "-",
            _ => l.Instructions.ToString("N0"),
        };
    }

    public void Loaded() => TableLook.Changed(_table);

    /// <summary>The memory map follows the cursor.</summary>
    public override void Refresh()
    {
        if (!Visible) return;
        var lines = new List<string>();
        if (!_model.Loaded) lines.Add(_loading());
        else if (_model.Layers.Count == 0) lines.Add("no instructions, no layers");
        else if (_model.Layers.All(l => l.Layer == 0)) lines.Add("no unpacking: only layer 0 (code that was loaded) ran");
        lines.AddRange(_model.OepLines());
        if (_pid() is { } pid)
        {
            var regions = _model.RegionsAt(_cursor.Step, pid, out var why);
            lines.Add(regions != null ? $"memory map of pid {pid} at step {_cursor.Step:N0}:" : why!);
            foreach (var r in regions ?? [])
                lines.Add($"  0x{r.Start:x}-0x{r.End:x} {ProtectionText.Of(r.Protection)} {r.Name}");
        }
        string text = string.Join('\n', lines);
        if (_regions.Text != text) _regions.Text = text;
    }

    public override bool HandleKey(Key key, bool typing)
    {
        if (typing || !_table.HasFocus) return false;
        if (key == Key.Enter)
        {
            _report(_model.JumpToFirst(_cursor, TableLook.Row(_table)));
            return true;
        }
        if (Keys.Char(key) == 'o')
        {
            _report(_model.JumpToOep(_cursor, TableLook.Row(_table)));
            return true;
        }
        if (Keys.Char(key) == 'd')
        {
            int row = TableLook.Row(_table);
            _report(JumpResult.Stay($"dumping layer {(row >= 0 && row < _model.Layers.Count ? _model.Layers[row].Layer : -1)}…"));
            _ = DumpAsync(row);
            return true;
        }
        return false;
    }

    private async Task DumpAsync(int row) => _report(JumpResult.Stay(await _model.DumpAsync(row)));
}
