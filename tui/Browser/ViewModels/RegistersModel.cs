using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>A register's value after the step, and whether the step changed it.</summary>
public readonly record struct RegisterValue(string Name, ulong Value, bool Changed);

/// <summary>The registers of the thread that executed a step, as they were after it.</summary>
public sealed record RegisterState(long Step, int Pid, int Tid, bool RipKnown, IReadOnlyList<RegisterValue> Values, string? Note)
{
    public static RegisterState None(long step, string note) => new(step, 0, 0, false, [], note);
    public ThreadRegisters? Thread { get; init; }
}

/// <summary>
/// The registers pane: the state rebuilt at the selected step (keyframe of its chunk, then the
/// changes), with the registers this step changed marked — the difference to the same thread's state
/// one step earlier. rip is never marked: every step moves it.
/// </summary>
public sealed class RegistersModel(ReplaySession replay)
{
    /// <summary>Shown order: general-purpose first, then rip/rflags, bases, segments, the rest.</summary>
    public static readonly Register[] Order =
    [
        Register.Rax, Register.Rbx, Register.Rcx, Register.Rdx, Register.Rsi, Register.Rdi, Register.Rbp, Register.Rsp,
        Register.R8, Register.R9, Register.R10, Register.R11, Register.R12, Register.R13, Register.R14, Register.R15,
        Register.Rip, Register.Rflags, Register.FsBase, Register.GsBase,
        Register.Cs, Register.Ss, Register.Ds, Register.Es, Register.Fs, Register.Gs, Register.OrigRax, Register.Cr3,
    ];

    public RegisterState At(long step)
    {
        if (step <= 0) return RegisterState.None(step, "no step selected");
        try
        {
            var state = replay.StateAt(step);
            if (state.Current is not { } thread) return RegisterState.None(step, "no thread is alive at this step");
            RegisterFile? before = step > 1 ? replay.RegistersAt(step - 1, thread.Pid, thread.Tid)?.Registers : null;
            var values = new RegisterValue[Order.Length];
            for (int i = 0; i < Order.Length; i++)
            {
                var r = Order[i];
                ulong value = thread.Registers[r];
                bool changed = r != Register.Rip && before is { } b && b[r] != value;
                values[i] = new RegisterValue(Registers.Names[(int)r], value, changed);
            }
            string? note = thread.RipKnown ? null : "rip: the trace ends before the thread's next instruction (fall-through guess)";
            return new RegisterState(step, thread.Pid, thread.Tid, thread.RipKnown, values, note) { Thread = thread };
        }
        catch (TraceFormatException e)
        {
            return RegisterState.None(step, e.Message);
        }
    }

    /// <summary>"IF ZF PF" — the set status and control flags of rflags, highest bit first.</summary>
    public static string Flags(ulong rflags)
    {
        var names = new List<string>();
        (int Bit, string Name)[] flags = [(11, "OF"), (10, "DF"), (9, "IF"), (8, "TF"), (7, "SF"), (6, "ZF"), (4, "AF"), (2, "PF"), (0, "CF")];
        foreach (var (bit, name) in flags)
            if ((rflags & (1UL << bit)) != 0) names.Add(name);
        return string.Join(' ', names);
    }
}
