using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Unpacking;

namespace Ether.Replay.Recorder.Backends.Ptrace.Modes;

/// <summary>
/// `--mode unpack`: every thread runs natively (system calls recorded as in `--mode syscalls`);
/// memory is kept writable-xor-executable (<see cref="WriteXorExecute"/>) so that the first write
/// into a clean page and the first execution of a written page fault into the recorder, which
/// records the moment (the instruction single-stepped, page-granular writes, registers, the stack,
/// a snapshot of the written region as it first runs) and flips the page.
/// </summary>
internal sealed class UnpackMode : RecordingMode
{
    public override string Name => RecordingModes.Unpack;
    public override ExecutionStyle InitialStyle => ExecutionStyle.Native;
    public override bool KeepsImaginaryProtections => true;
    private readonly WriteXorExecute _wx = new();

    public override void Attach(SessionHooks hooks) => hooks.Add(_wx);

    public override IEnumerable<KeyValuePair<string, string>> Details => _wx.Details;
}
