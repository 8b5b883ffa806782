namespace Ether.Replay.Recorder.Backends.Ptrace.Modes;

/// <summary>`--mode full`: every user-mode instruction single-stepped, with its memory writes, registers and system calls.</summary>
internal sealed class FullMode : RecordingMode
{
    public override string Name => RecordingModes.Full;
    public override ExecutionStyle InitialStyle => ExecutionStyle.Stepping;
    public override bool PinsToOneCpu(PtraceRecordOptions options) => options.BindToOneCpu;
}
