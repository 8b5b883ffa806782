namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// Sees every signal meant for the recorded program (not the recorder's own single-step traps)
/// before the pipeline records it, and may claim it: suppress it (e.g. a page fault the recorder
/// caused itself and has now fixed) or emulate the faulting instruction (e.g. <c>rdtsc</c> under
/// <c>PR_SET_TSC</c>). The first interceptor that claims the signal wins. Unclaimed signals are
/// recorded and delivered as before. Tracer thread only. See <see cref="SignalStop"/>.
/// </summary>
internal interface ISignalInterceptor
{
    void OnSignal(SignalStop stop);
}
