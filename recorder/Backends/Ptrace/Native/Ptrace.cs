namespace Ether.Replay.Recorder.Backends.Ptrace.Native;

/// <summary>ptrace requests, options and event numbers (linux/ptrace.h, x86-64).</summary>
internal static class PtraceRequest
{
    public const long PeekData = 2;
    public const long PokeData = 5;
    public const long Cont = 7;
    public const long Kill = 8;
    public const long SingleStep = 9;
    public const long GetRegs = 12;
    public const long SetRegs = 13;
    public const long Syscall = 24;
    public const long Detach = 17;
    public const long SetOptions = 0x4200;
    public const long GetEventMsg = 0x4201;
    public const long GetSigInfo = 0x4202;
    public const long SetSigInfo = 0x4203;
    public const long Seize = 0x4206;
    public const long Interrupt = 0x4207;
    public const long Listen = 0x4208;
    public const long GetSigMask = 0x420a;
    public const long SetSigMask = 0x420b;
    public const long GetSyscallInfo = 0x420e;
}

internal static class PtraceOptions
{
    public const int TraceSysGood = 0x01;
    public const int TraceFork = 0x02;
    public const int TraceVFork = 0x04;
    public const int TraceClone = 0x08;
    public const int TraceExec = 0x10;
    public const int TraceVForkDone = 0x20;
    public const int TraceExit = 0x40;
    public const int TraceSeccomp = 0x80;
    public const int ExitKill = 0x100000;
}

internal static class PtraceEvent
{
    public const int Fork = 1;
    public const int VFork = 2;
    public const int Clone = 3;
    public const int Exec = 4;
    public const int VForkDone = 5;
    public const int Exit = 6;
    public const int Seccomp = 7;
    public const int Stop = 128;
}

internal static class WaitFlags
{
    public const int NoHang = 1;
    public const int Untraced = 2;
    public const int All = 0x40000000; // __WALL: clone children (threads) too
    public const int NoThread = 0x20000000; // __WNOTHREAD: only the calling thread's children and tracees
}

/// <summary>What the backend asks of a signal number (the numbers are Formats.Abi.Signals, generated from the headers).</summary>
internal static class Sig
{
    /// <summary>"SIGSEGV", "SIGRT_1", ... as strace prints them (generated table in formats/Abi).</summary>
    public static string Name(int signo) => Signals.Name(signo) ?? $"SIG{signo}";

    /// <summary>Signals the CPU raises for the instruction that was executing (the instruction was attempted).</summary>
    public static bool IsSynchronousFault(int signo) =>
        signo is Signals.SIGSEGV or Signals.SIGBUS or Signals.SIGILL or Signals.SIGFPE or Signals.SIGTRAP;
}

/// <summary>siginfo si_code values the backend distinguishes.</summary>
internal static class SigCode
{
    public const int User = 0;            // SI_USER: kill()
    public const int Kernel = 0x80;       // SI_KERNEL: e.g. int3
    public const int TrapBreakpoint = 1;  // TRAP_BRKPT
    public const int TrapTrace = 2;       // TRAP_TRACE: a single-step trap
}
