using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

/// <summary>
/// Test-only: called before every step a stepping thread is about to run, with the step number it will
/// get (if it runs: a step a signal pre-empts is probed again when it does) and the thread as it stands
/// (registers before the step, live memory). The read tests use it as an oracle independent of the trace.
/// </summary>
internal interface IStepProbe
{
    void BeforeStep(long step, RecordedThread thread, in Instruction insn);
}
