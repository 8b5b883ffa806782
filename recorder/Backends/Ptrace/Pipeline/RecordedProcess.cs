namespace Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

/// <summary>One traced process as the recording sees it: its pid, memory and address-space knowledge,
/// and what the trace has shown of its memory (<see cref="Shadow"/>).</summary>
internal sealed class RecordedProcess(int pid, int parentPid, AddressSpace space, ProcessMemory memory)
{
    public int Pid { get; } = pid;
    public int ParentPid { get; } = parentPid;
    /// <summary>Replaced at exec; shared with the parent after vfork / clone(CLONE_VM).</summary>
    public AddressSpace Space { get; set; } = space;
    public ProcessMemory Memory { get; } = memory;
    /// <summary>The program it runs (set at exec).</summary>
    public string Executable { get; set; } = "";
    public int LiveThreads { get; set; }
    /// <summary>The pages the trace holds for this pid (a fresh one at exec; a copy of the parent's at fork).</summary>
    public ReadShadow Shadow { get; set; } = new();
}
