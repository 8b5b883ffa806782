using System.Runtime.InteropServices;

namespace Ether.Replay.Recorder.Backends.Ptrace.Native;

/// <summary>struct user_regs_struct (sys/user.h, x86-64), as PTRACE_GETREGS fills it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UserRegs
{
    public ulong R15, R14, R13, R12, Rbp, Rbx, R11, R10, R9, R8, Rax, Rcx, Rdx, Rsi, Rdi, OrigRax, Rip, Cs,
        Eflags, Rsp, Ss, FsBase, GsBase, Ds, Es, Fs, Gs;

    /// <summary>The trace's register file (cr3 stays 0: a process has no page-table base we can see).</summary>
    public readonly void CopyTo(ref RegisterFile f)
    {
        f[Register.Rax] = Rax; f[Register.Rbx] = Rbx; f[Register.Rcx] = Rcx; f[Register.Rdx] = Rdx;
        f[Register.Rsi] = Rsi; f[Register.Rdi] = Rdi; f[Register.Rbp] = Rbp; f[Register.Rsp] = Rsp;
        f[Register.R8] = R8; f[Register.R9] = R9; f[Register.R10] = R10; f[Register.R11] = R11;
        f[Register.R12] = R12; f[Register.R13] = R13; f[Register.R14] = R14; f[Register.R15] = R15;
        f[Register.Rip] = Rip; f[Register.Rflags] = Eflags; f[Register.FsBase] = FsBase; f[Register.GsBase] = GsBase;
        f[Register.Cs] = Cs; f[Register.Ss] = Ss; f[Register.Ds] = Ds; f[Register.Es] = Es;
        f[Register.Fs] = Fs; f[Register.Gs] = Gs; f[Register.OrigRax] = OrigRax; f[Register.Cr3] = 0;
    }
}

/// <summary>The head of siginfo_t (128 bytes in all); the union members the backend reads.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct SigInfo
{
    [FieldOffset(0)] public int Signo;
    [FieldOffset(4)] public int Errno;
    [FieldOffset(8)] public int Code;
    /// <summary>si_pid for kill()-like signals; si_addr for faults (both at offset 16).</summary>
    [FieldOffset(16)] public int Pid;
    [FieldOffset(16)] public ulong Addr;
}

/// <summary>struct ptrace_syscall_info (linux/ptrace.h) for PTRACE_GET_SYSCALL_INFO.</summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
internal unsafe struct PtraceSyscallInfo
{
    public const byte OpNone = 0, OpEntry = 1, OpExit = 2, OpSeccomp = 3;
    public const uint ArchX86_64 = 0xc000003e;
    public const uint ArchI386 = 0x40000003;

    [FieldOffset(0)] public byte Op;
    [FieldOffset(4)] public uint Arch;
    [FieldOffset(8)] public ulong InstructionPointer;
    [FieldOffset(16)] public ulong StackPointer;
    // entry: nr, args[6]
    [FieldOffset(24)] public ulong EntryNr;
    [FieldOffset(32)] public fixed ulong EntryArgs[6];
    // exit: rval, is_error
    [FieldOffset(24)] public long ExitRval;
    [FieldOffset(32)] public byte ExitIsError;
}
