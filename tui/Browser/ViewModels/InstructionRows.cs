using Ether.Replay.Analyzer.Replay;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>One row of the instruction list: a step, who ran it, the instruction and what else happened.</summary>
public sealed record InstructionLine(long Step, int Pid, int Tid, ulong? Rip, string Bytes, string Disassembly, string Marks)
{
    public string Address => Rip is { } r ? $"0x{r:x}" : "";
}

/// <summary>
/// The trace as rows for a virtual list, one per step (row r is step r+1): pages of rows are read from
/// the replay engine around what is on screen and a few pages are kept, so the list never enumerates
/// the trace and scrolling back and forth costs nothing. Layer-change marks are added when the layer
/// changes are known (after the export), without re-reading pages.
/// </summary>
public sealed class InstructionRows(ReplaySession replay)
{
    public const int PageSize = 128;
    private const int KeptPages = 16;

    private readonly LinkedList<(long Page, InstructionLine[] Lines)> _pages = new();

    /// <summary>Layer changes to mark; empty until the export is loaded.</summary>
    public LayerChanges LayerChanges { get; set; } = LayerChanges.Empty;

    /// <summary>Rows in the list: one per step (a list holds at most int.MaxValue rows).</summary>
    public int Count => (int)Math.Min(replay.LastStep, int.MaxValue);

    public static long StepOfRow(int row) => row + 1L;
    public static int RowOfStep(long step) => (int)Math.Clamp(step - 1, 0, int.MaxValue);

    /// <summary>The row of <paramref name="step"/> (1..LastStep).</summary>
    public InstructionLine Get(long step)
    {
        long page = (step - 1) / PageSize;
        var lines = Page(page);
        int i = (int)(step - 1 - page * PageSize);
        var line = i < lines.Length ? lines[i] : new InstructionLine(step, 0, 0, null, "", "", "");
        if (LayerChanges.At(step) is { } change)
            line = line with { Marks = $"[{StepMarks.Layer(change)}]{(line.Marks.Length > 0 ? " " : "")}{line.Marks}" };
        return line;
    }

    /// <summary>Forgets the kept pages (e.g. after the trace was re-read).</summary>
    public void Clear() => _pages.Clear();

    private InstructionLine[] Page(long page)
    {
        for (var node = _pages.First; node != null; node = node.Next)
        {
            if (node.Value.Page != page) continue;
            if (node != _pages.First)
            {
                _pages.Remove(node);
                _pages.AddFirst(node);
            }
            return node.Value.Lines;
        }
        var lines = Read(page);
        _pages.AddFirst((page, lines));
        if (_pages.Count > KeptPages) _pages.RemoveLast();
        return lines;
    }

    /// <summary>What a step without an instruction is in this trace (a native thread's system call in unpack and layers mode).</summary>
    private string TickText => _tickText ??= $"(no instruction: {StepCoverage.Tick(replay.Header)})";
    private string? _tickText;

    private InstructionLine[] Read(long page)
    {
        IReadOnlyList<StepRow> steps;
        try
        {
            steps = replay.StepsPage(page * PageSize + 1, PageSize);
        }
        catch (Ether.Replay.Formats.Log.TraceFormatException e)
        {
            // A chunk that passed its checksum but does not decode: say so on its rows, keep browsing.
            long first = page * PageSize + 1;
            int n = (int)Math.Max(0, Math.Min(PageSize, replay.LastStep - first + 1));
            return Enumerable.Range(0, n).Select(k => new InstructionLine(first + k, 0, 0, null, "", $"(unreadable: {e.Message})", "")).ToArray();
        }
        var lines = new InstructionLine[steps.Count];
        for (int i = 0; i < lines.Length; i++)
        {
            var s = steps[i];
            string marks = StepMarks.Of(s.Events);
            if (s.Instruction is { } x)
            {
                lines[i] = new InstructionLine(s.Step, x.Pid, x.Tid, x.Rip, Hex(x.Bytes), replay.Disassemble(x), marks);
            }
            else
            {
                var first = s.Events.Count > 0 ? s.Events[0] : null;
                lines[i] = new InstructionLine(s.Step, first?.Pid ?? 0, first?.Tid ?? 0, null, "", TickText, marks);
            }
        }
        return lines;
    }

    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "";
        return string.Create(bytes.Length * 3 - 1, bytes.ToArray(), (span, b) =>
        {
            for (int i = 0; i < b.Length; i++)
            {
                if (i > 0) span[i * 3 - 1] = ' ';
                b[i].TryFormat(span[(i * 3)..], out _, "x2");
            }
        });
    }
}
