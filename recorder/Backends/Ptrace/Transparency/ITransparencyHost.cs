using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency;

/// <summary>Where a traced thread is, as the transparency layer needs to know it.</summary>
internal enum TaskPlace
{
    /// <summary>Runnable from the program's point of view (stepping, ready, or running natively).</summary>
    Running,
    /// <summary>Inside a system call (it may be blocked in the kernel).</summary>
    InSyscall,
    /// <summary>In a group-stop (SIGSTOP and friends).</summary>
    GroupStopped,
}

/// <summary>What the transparency layer needs from the recording session (PtraceSession implements it).</summary>
internal interface ITransparencyHost : ITimeHost
{
    /// <summary>The process a traced thread belongs to, and where it is; null when <paramref name="tid"/> is not traced.</summary>
    (int Pid, TaskPlace Place)? Task(int tid);
    /// <summary>True for a process of the recording.</summary>
    bool IsProcess(int pid);
    /// <summary>The parent of a process of the recording (the program's parent shell for the first one).</summary>
    int ParentOf(int pid);
    /// <summary>The threads of a process of the recording.</summary>
    IEnumerable<int> ThreadsOf(int pid);
    /// <summary>The registers of a traced thread as they were at its last stop.</summary>
    bool TryGetRegisters(int tid, out UserRegs regs);
    int ReadMemory(int pid, ulong address, Span<byte> into);
    /// <summary>Writes a process's memory through page protections.</summary>
    bool WriteMemory(int pid, ulong address, ReadOnlySpan<byte> bytes);
    /// <summary>Keeps every thread of <paramref name="pid"/> from running (or lets them run again).</summary>
    void Hold(int pid, bool held);
    /// <summary>Stepping threads that want a CPU now (ready or stepping): they share the virtual CPUs.</summary>
    int RunnableStepping { get; }
    /// <summary>True when the mode starts threads running natively (PR_SET_TSC then traps their rdtsc).</summary>
    bool RunsNatively { get; }
    /// <summary>True when the mode keeps pages under other protections than the program's (`--mode unpack`).</summary>
    bool KeepsImaginaryProtections { get; }
    /// <summary>The pages of a process whose real protection differs from the program's (null: none, or not a process of the recording).</summary>
    Unpacking.WxPages? ImaginaryPages(int pid);
    /// <summary>How the program was started: its parent shell and the CPU the recording runs on.</summary>
    Launched Launched { get; }
}
