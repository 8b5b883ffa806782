using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>Bytes shown by the memory pane: <see cref="Origin"/> is the first, <see cref="Cursor"/> the selected one.
/// <see cref="ReadByStep"/> marks the bytes the selected step's instruction read (the pane highlights them).</summary>
public sealed record MemoryWindow(int Pid, ulong Origin, ulong Cursor, MemoryBytes Bytes, int BytesPerLine, bool[] ReadByStep)
{
    public int Lines => (Bytes.Bytes.Length + BytesPerLine - 1) / BytesPerLine;

    /// <summary>"7ffc0000fff0 48 89 c3 ?? … H.. " — bytes the trace never saw are ?? (and blank in the text column).</summary>
    public string Line(int line)
    {
        int from = line * BytesPerLine;
        int n = Math.Min(BytesPerLine, Bytes.Bytes.Length - from);
        return $"{Origin + (ulong)from:x12} {Bytes.Hex(from, n).PadRight(BytesPerLine * 3 - 1)} {Bytes.Text(from, n)}";
    }
}

/// <summary>
/// The memory pane: memory of the selected step's process around an address the user typed or a
/// register points to (a register-based address follows the register from step to step), a byte
/// cursor, and the who-wrote jumps: the last write of the byte at or before the step, the next after.
/// Needs the replay index; until it is built the pane says so.
/// </summary>
public sealed class MemoryModel(BrowserSession session)
{
    private ulong? _cursor;
    private long _anchoredAt = -1;

    public AddressExpression Expression { get; private set; } = new("rsp", (int)Register.Rsp, 0);
    public int BytesPerLine { get; set; } = 16;

    /// <summary>The most bytes a line of <see cref="MemoryWindow.Line"/> holds in <paramref name="width"/> columns: 16, 8 or 4.</summary>
    public static int BytesPerLineFor(int width) => width >= 13 + 4 * 16 ? 16 : width >= 13 + 4 * 8 ? 8 : 4;
    public int Lines { get; set; } = 8;

    /// <summary>Sets what to show; returns an error message for text that is not an address.</summary>
    public string? SetExpression(string text)
    {
        if (!AddressExpression.TryParse(text, out var e, out var error)) return error;
        Expression = e!;
        _cursor = null;
        _anchoredAt = -1;
        return null;
    }

    /// <summary>Moves the byte cursor (arrows: ±1, ±BytesPerLine; page: ±a screen). The byte chosen stays
    /// chosen from then on: the address is pinned instead of following a register.</summary>
    public void MoveCursor(long delta)
    {
        if (_cursor is { } c) Pin(unchecked(c + (ulong)delta));
    }

    private void Pin(ulong address)
    {
        Expression = new AddressExpression($"0x{address:x}", null, unchecked((long)address));
        _cursor = address;
    }

    /// <summary>The memory to show after <paramref name="step"/>, or null with the reason in <paramref name="why"/>.</summary>
    public MemoryWindow? Read(long step, RegisterState registers, out string? why)
    {
        why = session.Index.NotReadyReason("memory");
        if (why != null) return null;
        if (registers.Thread is not { } thread)
        {
            why = registers.Note ?? "no thread at this step";
            return null;
        }
        if (_cursor == null || (Expression.FollowsRegister && _anchoredAt != step))
        {
            _cursor = Expression.Resolve(thread.Registers);
            _anchoredAt = step;
        }
        ulong cursor = _cursor!.Value;
        ulong perLine = (ulong)Math.Max(1, BytesPerLine);
        // Keep the cursor in view: start on the line above it when there is room.
        ulong origin = cursor / perLine * perLine;
        if (Lines > 2 && origin >= perLine) origin -= perLine;
        int length = (int)perLine * Math.Max(1, Lines);
        if (origin > ulong.MaxValue - (ulong)length) origin = ulong.MaxValue - (ulong)length + 1;
        try
        {
            var bytes = session.Replay.ReadMemory(step, thread.Pid, origin, length);
            return new MemoryWindow(thread.Pid, origin, cursor, bytes, (int)perLine, ReadBy(step, thread.Pid, origin, length));
        }
        catch (TraceFormatException e)
        {
            why = e.Message;
            return null;
        }
    }

    /// <summary>Which bytes of [origin, origin+length) the instruction of <paramref name="step"/> read (in <paramref name="pid"/>).</summary>
    private bool[] ReadBy(long step, int pid, ulong origin, int length)
    {
        var marks = new bool[length];
        if (session.Replay.ReadsAt(step) is not { } reads || reads.Pid != pid) return marks;
        foreach (var read in reads.Reads)
            for (int i = 0; i < read.Size; i++)
            {
                ulong offset = read.Address + (ulong)i - origin;
                if (offset < (ulong)length) marks[offset] = true;
            }
        return marks;
    }

    /// <summary>The last write of the byte under the cursor at or before the step (who wrote it).</summary>
    public JumpResult LastWrite(StepCursor cursor, MemoryWindow? window) => Write(cursor, window, next: false);

    /// <summary>The next write of the byte under the cursor after the step.</summary>
    public JumpResult NextWrite(StepCursor cursor, MemoryWindow? window) => Write(cursor, window, next: true);

    private JumpResult Write(StepCursor cursor, MemoryWindow? window, bool next)
    {
        if (session.Index.NotReadyReason("who-wrote") is { } why) return JumpResult.Stay(why);
        if (window == null) return JumpResult.Stay("no memory shown");
        ulong address = window.Cursor;
        WriteRef? w;
        try
        {
            w = next ? session.Replay.NextWrite(address, cursor.Step, window.Pid) : session.Replay.LastWriteBefore(address, cursor.Step, window.Pid);
        }
        catch (TraceFormatException e)
        {
            return JumpResult.Stay(e.Message);
        }
        if (w == null) return JumpResult.Stay($"0x{address:x}: {(next ? "not written again" : "never written before this step")} in the trace");
        Pin(address); // follow the same byte through the chain of writers
        return cursor.GoTo(w.Step, $"0x{address:x}: {(next ? "next" : "last")} written at step {w.Step:N0} by {w.Writer} (tid {w.Tid}, {w.Size} byte{(w.Size == 1 ? "" : "s")} at 0x{w.Address:x})");
    }
}
