using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// A system-call entry or exit stop (<see cref="ISyscallInterceptor"/>). At entry: look at the
/// call, rewrite its arguments (<see cref="SetArgument"/>: the kernel sees the new values, the
/// program gets its own registers back at exit, the trace records the program's), or skip it
/// (<see cref="Skip"/>: the kernel runs nothing and the call returns the emulated result). At
/// exit: rewrite the result (<see cref="Return"/>), the memory the kernel wrote
/// (<see cref="ThreadStop.WriteMemory"/>) or any register; run remote system calls.
/// </summary>
internal sealed class SyscallStop : ThreadStop
{
    private readonly ulong[] _args = new ulong[6];
    private long _return;

    public bool IsEntry { get; private set; }
    public bool IsExit => !IsEntry;
    /// <summary>A 32-bit call (int 0x80, or a 32-bit process): numbers and arguments follow the i386 ABI.</summary>
    public bool Compat => Thread.SyscallAbi == SyscallTables.LinuxI386Abi;
    public string Abi => Thread.SyscallAbi;
    public long Number => Thread.SyscallNumber;
    public string Name => Thread.SyscallName;
    /// <summary>The arguments as the program passed them (what the trace records).</summary>
    public ReadOnlySpan<ulong> Args => Thread.SyscallArgs;
    /// <summary>The arguments the kernel gets (the program's, unless an interceptor rewrote some).</summary>
    public ReadOnlySpan<ulong> KernelArgs => _args;
    /// <summary>fork / vfork / clone / clone3: the clone flags (0 for a plain fork; 0 for other calls).</summary>
    public ulong CloneFlags => T.CloneFlags;

    /// <summary>Entry: the call will not run; the program gets <paramref name="result"/> (a value, or -errno).</summary>
    public void Skip(long result)
    {
        RequireEntry();
        T.SkipSyscall = true;
        T.SkipResult = result;
    }

    /// <summary>True when an interceptor skipped the call at entry.</summary>
    public bool Skipped => T.SkipSyscall;

    /// <summary>Entry: the kernel gets <paramref name="value"/> as argument <paramref name="index"/> (0-5).</summary>
    public void SetArgument(int index, ulong value)
    {
        RequireEntry();
        _args[index] = value;
        T.ArgsRewritten = true;
    }

    /// <summary>Exit: what the call returns to the program (the kernel's result, or the skip result); set it to change that.</summary>
    public long Return
    {
        get { RequireExit(); return _return; }
        set { RequireExit(); _return = value; ReturnChanged = true; }
    }

    internal bool ReturnChanged { get; private set; }

    private protected override bool CanRunSyscalls => IsExit;

    internal SyscallStop ResetEntry(PtraceSession session, TraceeThread t)
    {
        Reset(session, t, registersKnown: false);
        IsEntry = true;
        ReturnChanged = false;
        t.Rec.SyscallArgs.CopyTo(_args, 0);
        return this;
    }

    internal SyscallStop ResetExit(PtraceSession session, TraceeThread t, long ret)
    {
        Reset(session, t, registersKnown: true);
        IsEntry = false;
        _return = ret;
        ReturnChanged = false;
        return this;
    }

    /// <summary>The argument registers of the call's ABI, in argument order.</summary>
    internal static void SetArgumentRegisters(ref UserRegs regs, bool compat, ReadOnlySpan<ulong> args)
    {
        if (compat)
        {
            // int 0x80 / i386: ebx, ecx, edx, esi, edi, ebp.
            regs.Rbx = args[0]; regs.Rcx = args[1]; regs.Rdx = args[2];
            regs.Rsi = args[3]; regs.Rdi = args[4]; regs.Rbp = args[5];
        }
        else
        {
            regs.Rdi = args[0]; regs.Rsi = args[1]; regs.Rdx = args[2];
            regs.R10 = args[3]; regs.R8 = args[4]; regs.R9 = args[5];
        }
    }

    private void RequireEntry()
    {
        if (!IsEntry) throw new InvalidOperationException("only at a system-call entry stop");
    }

    private void RequireExit()
    {
        if (IsEntry) throw new InvalidOperationException("only at a system-call exit stop");
    }
}
