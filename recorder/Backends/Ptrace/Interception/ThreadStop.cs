using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// A traced thread in a ptrace stop, as interceptors see it: who it is, its registers, its memory,
/// its execution style, and what may be done to it meanwhile (write memory, run a system call
/// inside it, annotate the trace). One object per kind of stop is reused for every stop: do not
/// keep it past the call.
/// </summary>
internal abstract class ThreadStop
{
    private PtraceSession _session = null!;
    private bool _registersKnown;

    private protected TraceeThread T { get; private set; } = null!;
    private protected PtraceSession Session => _session;

    public int Pid => T.Pid;
    public int Tid => T.Tid;
    /// <summary>The recording's view of the thread: its process, address space, the step in flight, the system call it is in.</summary>
    public RecordedThread Thread => T.Rec;
    public RecordedProcess Process => T.Rec.Process;
    /// <summary>The recording's event sink (for modes that record moments of their own, e.g. unpack's W^X faults).</summary>
    internal RecordingPipeline Pipeline => _session.Pipeline;

    /// <summary>Single-stepped or native from its next resume on (<see cref="ExecutionStyle"/>).</summary>
    public ExecutionStyle Style
    {
        get => T.Style;
        set => T.Style = value;
    }

    /// <summary>
    /// Every other thread sharing this thread's address space (its process's threads and CLONE_VM
    /// processes), except those <paramref name="keep"/> names, runs in <paramref name="style"/> from
    /// its next resume on. Threads running natively are stopped first when they must step: none of
    /// them runs another unstepped instruction once this returns (PtraceSession.RestyleSpace).
    /// </summary>
    public void SetStyleOfOthers(ExecutionStyle style, Func<int, bool>? keep = null) => _session.RestyleSpace(T, style, keep);

    /// <summary>True once an interceptor changed the registers; the session hands them to the kernel before the thread resumes.</summary>
    internal bool RegistersChanged { get; private set; }

    private protected void Reset(PtraceSession session, TraceeThread t, bool registersKnown)
    {
        _session = session;
        T = t;
        _registersKnown = registersKnown;
        RegistersChanged = false;
    }

    /// <summary>The thread's registers as the kernel will resume it (read on first use at an entry stop).</summary>
    public ref readonly UserRegs Registers
    {
        get
        {
            if (!_registersKnown) _registersKnown = _session.ReadRegisters(T);
            return ref T.Raw;
        }
    }

    /// <summary>Changes the registers the thread resumes with (and the trace records after this stop).</summary>
    public void SetRegisters(in UserRegs regs)
    {
        T.Raw = regs;
        _registersKnown = true;
        RegistersChanged = true;
    }

    /// <summary>Reads the process's memory (a prefix when part of it is unreadable).</summary>
    public int ReadMemory(ulong address, Span<byte> into) => Process.Memory.Read(address, into);

    /// <summary>
    /// Writes the process's memory, through page protections if need be, and tells the address
    /// space (cached code, written pages) that it changed. The trace records it only where the
    /// pipeline records anyway: at a system-call exit, the call's kernel write set.
    /// </summary>
    public bool WriteMemory(ulong address, ReadOnlySpan<byte> bytes)
    {
        bool ok = Process.Memory.Write(address, bytes, T.Tid);
        Process.Space.NoteWrite(address, bytes.Length);
        return ok;
    }

    /// <summary>
    /// Runs system call <paramref name="number"/> (x86-64 numbering) inside this thread and returns
    /// its raw result (-errno on failure) in <paramref name="result"/>; the thread's registers are
    /// restored afterwards and the trace sees nothing of it. False when it could not be run (the
    /// thread died, no <c>syscall</c> instruction found, 32-bit code). Not at a system-call entry
    /// stop. Not for calls that create processes, exec, or block.
    /// </summary>
    public bool TrySyscall(long number, out long result, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0)
    {
        if (!CanRunSyscalls) throw new InvalidOperationException("a remote system call cannot run at a system-call entry stop");
        Span<ulong> args = [a0, a1, a2, a3, a4, a5];
        return _session.Remote.TryRun(T, number, args, out result);
    }

    /// <summary>False at a system-call entry stop (the kernel is in the middle of the program's own call).</summary>
    private protected virtual bool CanRunSyscalls => true;

    /// <summary>Adds a note to the trace at this thread's current step (e.g. the original value a program was not shown).</summary>
    public void Annotate(string key, string text) => _session.Pipeline.Annotate(T.Pid, T.Tid, key, text);
}

/// <summary>A stepping thread right after a completed step (<see cref="IStepObserver"/>).</summary>
internal sealed class StepStop : ThreadStop
{
    internal StepStop Reset(PtraceSession session, TraceeThread t)
    {
        Reset(session, t, registersKnown: true);
        return this;
    }
}
