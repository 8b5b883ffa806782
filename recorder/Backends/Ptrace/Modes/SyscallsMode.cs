namespace Ether.Replay.Recorder.Backends.Ptrace.Modes;

/// <summary>`--mode syscalls`: every thread runs natively from one system-call stop to the next; a step per system call.</summary>
internal sealed class SyscallsMode : RecordingMode
{
    public override string Name => RecordingModes.Syscalls;
    public override ExecutionStyle InitialStyle => ExecutionStyle.Native;
}
