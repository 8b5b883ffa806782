using Ether.Replay.Recorder.Backends.Ptrace.Interception;

namespace Ether.Replay.Recorder.Backends.Ptrace.Modes;

/// <summary>
/// A recording mode of the ptrace backend, as a strategy: how threads run (<see cref="InitialStyle"/>,
/// switched per thread later if the mode wants), and which interceptors it adds to the session
/// (<see cref="Attach"/>). Adding a mode = a subclass plus one line in <see cref="RecordingModes"/>.
/// A mode object belongs to one recording; it runs on the tracer thread only.
/// </summary>
internal abstract class RecordingMode
{
    /// <summary>The name users pass to --mode and the trace header records ("full", "syscalls").</summary>
    public abstract string Name { get; }

    /// <summary>How every thread starts: the program after its exec, and each new thread and process.</summary>
    public abstract ExecutionStyle InitialStyle { get; }

    /// <summary>How a thread or process created by a thread of style <paramref name="creator"/> starts
    /// (fork, vfork, clone). The default: <see cref="InitialStyle"/>.</summary>
    public virtual ExecutionStyle StyleOfNewTask(ExecutionStyle creator) => InitialStyle;

    /// <summary>Whether the tracer thread and the target share one CPU (single-stepping is a ping-pong
    /// between them: on one CPU each hand-over is a plain context switch; see <see cref="CpuBinding"/>).</summary>
    public virtual bool PinsToOneCpu(PtraceRecordOptions options) => false;

    /// <summary>Called once before the target starts: register the mode's interceptors and step
    /// observers (<see cref="SessionHooks.Add"/>). The default adds nothing.</summary>
    public virtual void Attach(SessionHooks hooks)
    {
    }

    /// <summary>True when the mode gives pages other protections than the program asked for
    /// (<see cref="Unpacking.WxPages"/>): the program's reads of /proc/&lt;pid&gt;/maps and smaps are then
    /// rewritten to show its own (Transparency/ProcFiles/ImaginaryMapsRewriter).</summary>
    public virtual bool KeepsImaginaryProtections => false;

    /// <summary>What the mode counted, for the recording's summary (<see cref="Recording.RecordingResult.BackendDetails"/>).</summary>
    public virtual IEnumerable<KeyValuePair<string, string>> Details => [];
}
