namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// System calls the sample may not make because they reach outside the recording: signals to
/// processes that are not traced (kill(-1, SIGKILL) as root would kill the recorder), ptrace
/// attach to them, reads and writes of their memory. Refused calls fail with EPERM and are
/// annotated in the trace; everything inside the traced tree is left alone (a sample may kill
/// itself or its own process group). Which calls those are, and which argument is the process,
/// is the system-call table's (SignalsProcess / AccessesProcess with a Target Pid argument).
/// </summary>
internal static class SandboxGuard
{
    /// <summary>Why the call must be refused, or null to let it run.</summary>
    public static string? Refuse(bool compat, long nr, ReadOnlySpan<ulong> args, Func<int, bool> isTraced)
    {
        var calls = LinuxSyscallAbi.Of(compat);
        if (!calls.Has(nr, SyscallTraits.SignalsProcess | SyscallTraits.AccessesProcess)
            || calls.Calls.Find(nr) is not { TargetPid: >= 0 and var pidArg } call)
            return null;
        int pid = (int)args[pidArg];
        if (call.Has(SyscallTraits.SignalsProcess))
        {
            if (pid == -1) return "signal to every process (pid -1)";
            if (pid == 0) return null; // its own process group: inside the recording's session
            if (pid < -1) return isTraced(-pid) ? null : $"signal to process group {-pid} outside the recording";
            return isTraced(pid) ? null : $"signal to pid {pid} outside the recording";
        }
        if (call.Name == "ptrace")
        {
            long request = (long)args[0];
            bool attach = request == LinuxConstants.PTRACE_ATTACH || request == LinuxConstants.PTRACE_SEIZE;
            return attach && !isTraced(pid) ? $"ptrace attach to pid {pid} outside the recording" : null;
        }
        return pid > 0 && !isTraced(pid) ? $"access to pid {pid} outside the recording" : null;
    }
}
