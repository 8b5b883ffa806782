namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>How a traced task must look to the program, in place of the tracer's stop.</summary>
internal enum ApparentState
{
    /// <summary>Keep what the kernel says (the task is really blocked in a system call: S or D).</summary>
    AsKernel,
    /// <summary>"R (running)": the task would be running or runnable natively (the tracer is merely not running it now).</summary>
    Running,
    /// <summary>"S (sleeping)": the task is in a sleep or wait the recorder holds it in.</summary>
    Sleeping,
    /// <summary>"T (stopped)": a group-stop (SIGSTOP and friends), as natively.</summary>
    Stopped,
    /// <summary>"t (tracing stop)": stopped by the program's own (emulated) debugger.</summary>
    TracingStop,
}

/// <summary>What the recording knows about a traced task, for the files that describe it.</summary>
internal readonly record struct TaskFacts(
    ApparentState State,
    /// <summary>TracerPid to show: the program's own emulated tracer, or 0.</summary>
    int TracerPid,
    /// <summary>Virtual CPU time of the task (its thread for task files, the process for /proc/pid files), ns; null: keep the kernel's.</summary>
    long? CpuNs,
    /// <summary>Virtual CPU time of the process's exited children, ns.</summary>
    long ChildrenCpuNs,
    /// <summary>Virtual CLOCK_BOOTTIME when the task started, ns; null: keep the kernel's.</summary>
    long? StartBoottimeNs,
    /// <summary>The CPU affinity the program believes it has ("Cpus_allowed" hex mask and list), null: keep the kernel's.</summary>
    string? CpusAllowedMask,
    string? CpusAllowedList);

/// <summary>The recording's view of its tasks (the session implements it; tests fake it).</summary>
internal interface ITaskFacts
{
    /// <summary>Facts about <paramref name="tid"/> as <paramref name="reader"/> should see them, or null when
    /// the task is not part of the recording (its files are shown as they are).
    /// <paramref name="wholeProcess"/>: the file is /proc/&lt;pid&gt;/..., not a task file.</summary>
    TaskFacts? Describe(int tid, bool wholeProcess, ProcReader reader);
}
