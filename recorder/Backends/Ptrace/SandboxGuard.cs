namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// System calls the sample may not make because they reach outside the recording: signals to
/// processes that are not traced (kill(-1, SIGKILL) as root would kill the recorder), ptrace
/// attach to them, writes into their memory. Refused calls fail with EPERM and are annotated in
/// the trace; everything inside the traced tree is left alone (a sample may kill itself or its
/// own process group).
/// </summary>
internal static class SandboxGuard
{
    /// <summary>Why the call must be refused, or null to let it run.</summary>
    public static string? Refuse(bool compat, long nr, ReadOnlySpan<ulong> args, Func<int, bool> isTraced)
    {
        var call = compat ? I386(nr) : X86_64(nr);
        int pid = (int)args[call.PidArg];
        switch (call.Kind)
        {
            case Kind.Kill:
                if (pid == -1) return "signal to every process (pid -1)";
                if (pid == 0) return null; // its own process group: inside the recording's session
                if (pid < -1) return isTraced(-pid) ? null : $"signal to process group {-pid} outside the recording";
                return isTraced(pid) ? null : $"signal to pid {pid} outside the recording";
            case Kind.Ptrace:
                long request = (long)args[0];
                bool attach = request is 16 or 0x4206; // PTRACE_ATTACH, PTRACE_SEIZE
                return attach && !isTraced(pid) ? $"ptrace attach to pid {pid} outside the recording" : null;
            case Kind.PidTarget:
                return pid > 0 && !isTraced(pid) ? $"access to pid {pid} outside the recording" : null;
            default:
                return null;
        }
    }

    private enum Kind { None, Kill, Ptrace, PidTarget }

    private readonly record struct Call(Kind Kind, int PidArg);

    private static Call X86_64(long nr) => nr switch
    {
        62 => new(Kind.Kill, 0),   // kill(pid, sig)
        200 => new(Kind.Kill, 0),  // tkill(tid, sig)
        234 => new(Kind.Kill, 0),  // tgkill(tgid, tid, sig)
        129 => new(Kind.Kill, 0),  // rt_sigqueueinfo(pid, ...)
        297 => new(Kind.Kill, 0),  // rt_tgsigqueueinfo(tgid, ...)
        101 => new(Kind.Ptrace, 1), // ptrace(request, pid, ...)
        311 => new(Kind.PidTarget, 0), // process_vm_writev(pid, ...)
        _ => default,
    };

    private static Call I386(long nr) => nr switch
    {
        37 => new(Kind.Kill, 0),
        238 => new(Kind.Kill, 0),
        270 => new(Kind.Kill, 0),
        178 => new(Kind.Kill, 0),
        335 => new(Kind.Kill, 0),
        26 => new(Kind.Ptrace, 1),
        348 => new(Kind.PidTarget, 0),
        _ => default,
    };
}
