using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Unpacking;

namespace Ether.Replay.Recorder.Backends.Ptrace.Modes;

/// <summary>
/// `--mode layers`: `--mode unpack` (pages kept writable-xor-executable, the moments of unpacking
/// recorded, the unpacker natively), plus every instruction single-stepped — with its registers
/// and exact memory writes — while a thread runs inside written code (<see cref="WrittenCodeStepper"/>):
/// the unpacked payload's instruction trace without the cost of stepping its unpacker.
/// </summary>
internal sealed class LayersMode : RecordingMode
{
    public override string Name => RecordingModes.Layers;
    public override ExecutionStyle InitialStyle => ExecutionStyle.Native;
    public override bool KeepsImaginaryProtections => true;
    private readonly WriteXorExecute _wx = new(stepWrittenCode: true);

    /// <summary>Stepped stretches are the ping-pong single-stepping is; on one CPU as in full mode.</summary>
    public override bool PinsToOneCpu(PtraceRecordOptions options) => options.BindToOneCpu;

    /// <summary>A thread or process created by written code starts inside it: it steps too (it goes native when it leaves).</summary>
    public override ExecutionStyle StyleOfNewTask(ExecutionStyle creator) => creator;

    public override void Attach(SessionHooks hooks) => hooks.Add(_wx);

    public override IEnumerable<KeyValuePair<string, string>> Details => _wx.Details;
}
