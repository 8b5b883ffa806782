using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace.Interception;

/// <summary>
/// The first interceptor of every recording: calls that reach outside the recording fail with
/// EPERM (<see cref="SandboxGuard"/>), and process creation beyond the sandbox's process limit
/// fails with EAGAIN (root ignores RLIMIT_NPROC, so the cap is ours). Each refusal is annotated.
/// </summary>
internal sealed class SandboxInterceptor(Func<int, bool> isTraced, Func<int> processCount, int maxProcesses) : ISyscallInterceptor
{
    public void OnEntry(SyscallStop stop)
    {
        if (SandboxGuard.Refuse(stop.Compat, stop.Number, stop.Args, isTraced) is { } why)
            Refuse(stop, why, Errno.EPERM);
        else if (IsProcessCreation(stop.Compat, stop.Number, stop.CloneFlags) && processCount() >= maxProcesses)
            Refuse(stop, $"{processCount()} traced processes (limit {maxProcesses})", Errno.EAGAIN);
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
        LinuxSyscallAbi.Of(compat).Has(nr, SyscallTraits.CreatesTask) && (cloneFlags & (ulong)LinuxConstants.CLONE_THREAD) == 0;
}
