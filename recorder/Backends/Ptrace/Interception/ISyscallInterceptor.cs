namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// Sees every system call of the recorded program at its entry and exit stop, and may change
/// what the kernel does and what the program sees (see <see cref="SyscallStop"/>).
///
/// Order at an entry stop: the pipeline records the entry (the arguments as the program passed
/// them), then each interceptor's <see cref="OnEntry"/> runs (rewrite arguments, skip the call with
/// an emulated result). Order at an exit stop: each interceptor's <see cref="OnExit"/> runs (rewrite
/// the return value, the memory the kernel wrote, registers), then the pipeline records the exit,
/// the kernel's writes (read from memory now, so rewritten bytes are what the trace holds) and the
/// registers: the trace holds what the program saw.
/// Tracer thread only; keep it cheap (every system call of every thread comes here).
/// </summary>
internal interface ISyscallInterceptor
{
    void OnEntry(SyscallStop stop);
    void OnExit(SyscallStop stop);
}
