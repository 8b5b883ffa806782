using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>What a jump did: where it landed (if it moved) and the line the status bar shows.</summary>
public readonly record struct JumpResult(bool Moved, string Message)
{
    public static JumpResult To(long step, string message) => new(true, message);
    public static JumpResult Stay(string message) => new(false, message);
}

/// <summary>
/// The selected step and every way of moving it: to a step number, to the next or previous execution
/// of the instruction under the cursor (QIRA/Tenet style), system call, or layer change, and back
/// along the jumps taken. Each jump asks an index (chunk counts, the replay index's execution filter,
/// the sorted layer changes), never scans the trace; jumps that need work still running in the
/// background say so instead of waiting for it.
/// </summary>
public sealed class StepCursor
{
    private const int HistoryLimit = 256;
    private readonly BrowserSession _session;
    private readonly InstructionRows _rows;
    private readonly List<long> _back = new();

    public StepCursor(BrowserSession session, InstructionRows rows)
    {
        _session = session;
        _rows = rows;
        Step = session.LastStep > 0 ? 1 : 0;
    }

    /// <summary>The selected step: 1..LastStep (0 for a trace without steps).</summary>
    public long Step { get; private set; }
    public long LastStep => _session.LastStep;

    /// <summary>Raised after every change of <see cref="Step"/> (jumps and plain moves).</summary>
    public event Action? Moved;

    /// <summary>The row under the cursor.</summary>
    public InstructionLine? Current => Step > 0 ? _rows.Get(Step) : null;

    /// <summary>Moves without remembering where it was (scrolling, arrow keys).</summary>
    public void MoveTo(long step)
    {
        step = Clamp(step);
        if (step == Step) return;
        Step = step;
        Moved?.Invoke();
    }

    /// <summary>Jumps to a step, remembering the current one for <see cref="Back"/>.</summary>
    public JumpResult GoTo(long step, string? what = null)
    {
        if (LastStep == 0) return JumpResult.Stay("the trace has no steps");
        if (step < 1 || step > LastStep) return JumpResult.Stay($"step {step:N0} is outside the trace (1..{LastStep:N0})");
        if (step != Step)
        {
            _back.Add(Step);
            if (_back.Count > HistoryLimit) _back.RemoveAt(0);
        }
        MoveTo(step);
        return JumpResult.To(step, what ?? $"step {step:N0}");
    }

    /// <summary>Back to where the last jump came from.</summary>
    public JumpResult Back()
    {
        if (_back.Count == 0) return JumpResult.Stay("no earlier jump to go back to");
        long step = _back[^1];
        _back.RemoveAt(_back.Count - 1);
        MoveTo(step);
        return JumpResult.To(step, $"back to step {step:N0}");
    }

    public JumpResult NextExecution() => Execution(next: true);
    public JumpResult PreviousExecution() => Execution(next: false);

    private JumpResult Execution(bool next)
    {
        if (Current is not { Rip: { } rip } line) return JumpResult.Stay("no instruction under the cursor");
        if (_session.Index.NotReadyReason("next/previous execution") is { } why) return JumpResult.Stay(why);
        long? found = Try(() => next ? _session.Replay.NextExecution(rip, Step, line.Pid) : _session.Replay.PreviousExecution(rip, Step, line.Pid), out var error);
        if (error != null) return JumpResult.Stay(error);
        return found is { } s
            ? GoTo(s, $"{(next ? "next" : "previous")} execution of 0x{rip:x}: step {s:N0}")
            : JumpResult.Stay($"no {(next ? "later" : "earlier")} execution of 0x{rip:x}");
    }

    public JumpResult NextSyscall() => Syscall(next: true);
    public JumpResult PreviousSyscall() => Syscall(next: false);

    private JumpResult Syscall(bool next)
    {
        var e = Try(() => next ? _session.Replay.NextEvent(Step, EventKind.SyscallEntry) : _session.Replay.PreviousEvent(Step, EventKind.SyscallEntry), out var error);
        if (error != null) return JumpResult.Stay(error);
        return e is SyscallEntryEvent call
            ? GoTo(call.Step, $"{(next ? "next" : "previous")} system call: {call.Name} at step {call.Step:N0}")
            : JumpResult.Stay($"no {(next ? "later" : "earlier")} system call");
    }

    public JumpResult NextLayer() => Layer(next: true);
    public JumpResult PreviousLayer() => Layer(next: false);

    private JumpResult Layer(bool next)
    {
        if (_session.Analysis is not { } analysis)
            return JumpResult.Stay(_session.Export.NotReadyReason("next/previous layer") ?? "layers are not loaded yet");
        var change = next ? analysis.LayerChanges.After(Step) : analysis.LayerChanges.Before(Step);
        if (change is not { } c)
            return JumpResult.Stay(analysis.LayerChanges.Count == 0 ? "no layer changes in this trace (no code ran from written memory)" : $"no {(next ? "later" : "earlier")} layer change");
        return GoTo(c.Step, $"{StepMarks.Layer(c)} (tid {c.Tid}) at step {c.Step:N0}");
    }

    private long Clamp(long step) => LastStep == 0 ? 0 : Math.Clamp(step, 1, LastStep);

    /// <summary>A damaged chunk met by a jump is a message, not a crash.</summary>
    private static T? Try<T>(Func<T> query, out string? error)
    {
        error = null;
        try
        {
            return query();
        }
        catch (TraceFormatException e)
        {
            error = e.Message;
            return default;
        }
    }
}
