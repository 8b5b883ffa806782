using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// The first interceptor of every recording: calls that reach outside the recording fail with
/// EPERM (<see cref="SandboxGuard"/>), and process creation beyond the sandbox's process limit
/// fails with EAGAIN (root ignores RLIMIT_NPROC, so the cap is ours). Each refusal is annotated.
/// </summary>
internal sealed class SandboxInterceptor(Func<int, bool> isTraced, Func<int> processCount, int maxProcesses) : ISyscallInterceptor
{
    private const ulong CloneThread = 0x10000;

    public void OnEntry(SyscallStop stop)
    {
        if (SandboxGuard.Refuse(stop.Compat, stop.Number, stop.Args, isTraced) is { } why)
            Refuse(stop, why, LibC.EPERM);
        else if (IsProcessCreation(stop.Compat, stop.Number, stop.CloneFlags) && processCount() >= maxProcesses)
            Refuse(stop, $"{processCount()} traced processes (limit {maxProcesses})", LibC.EAGAIN);
    }

    public void OnExit(SyscallStop stop)
    {
    }

    private static void Refuse(SyscallStop stop, string why, int errno)
    {
        stop.Skip(-errno);
        stop.Annotate("sandbox", $"refused {stop.Name}: {why}");
    }

    /// <summary>fork, vfork, clone/clone3 without CLONE_THREAD: a new process.</summary>
    private static bool IsProcessCreation(bool compat, long nr, ulong cloneFlags) =>
        (compat ? nr is 2 or 190 or 120 : nr is 57 or 58 or 56 or 435) && (cloneFlags & CloneThread) == 0;
}
