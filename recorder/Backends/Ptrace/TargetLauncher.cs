using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>What the launch left: the program's process (traced, about to exec) and the shell that is its parent (not traced).</summary>
internal readonly record struct Launched(int ProgramPid, int ShellPid, int? Cpu, ulong[] ShellAffinity);

/// <summary>
/// Starts the sandbox prologue with posix_spawn (in the sample's own network namespace), waits
/// until the shell has stopped itself (<c>kill -STOP $$</c>), seizes it and follows it as it
/// becomes the parent shell and forks the program's process; that child is taken over (it inherits
/// the seize) and the shell is let go, so the program's parent is an ordinary shell that nobody
/// traces. Must run on the tracer thread.
/// </summary>
internal static class TargetLauncher
{
    public const int Options = PtraceOptions.TraceSysGood | PtraceOptions.TraceExec | PtraceOptions.TraceFork
        | PtraceOptions.TraceVFork | PtraceOptions.TraceClone | PtraceOptions.ExitKill;

    /// <summary>
    /// Returns the pid of the program's process, seized and continuing towards its exec (its system
    /// calls stop as usual), and the parent shell's. <paramref name="pinTracer"/> runs once the
    /// shell exists (so that it keeps the affinity a user's shell would have) and may bind the
    /// tracer thread to a CPU; the program's process is then bound to the same CPU. A stop requested
    /// on <paramref name="control"/> while the launch waits for the prologue's stop (Ctrl-C while a
    /// prologue is slow or hangs) kills the shell, and the launch fails.
    /// </summary>
    public static Launched Launch(IPtrace ptrace, Sandbox sandbox, TargetProgram program, SandboxOptions options,
        Func<int?>? pinTracer = null, RecordingControl? control = null)
    {
        var argv = sandbox.ShellArgv(program.Path, program.Arguments, stopBeforeExec: true);
        int shell = sandbox.Spawn(argv, new PosixSpawn.Stdio(options.StdinPath, options.StdoutPath, options.StderrPath));
        int? cpu = pinTracer?.Invoke();
        WaitForStop(ptrace, shell, control);

        if (!ptrace.Seize(shell, Options))
        {
            int errno = ptrace.LastError;
            ptrace.Kill(shell, Signals.SIGKILL);
            ptrace.WaitChild(shell, out _);
            throw new RecordingSetupException(errno == Errno.EPERM
                ? $"ptrace is not permitted here (PTRACE_SEIZE: EPERM{PtraceScopeHint()}); run as root, or allow ptrace (CAP_SYS_PTRACE, container seccomp profile)"
                : $"PTRACE_SEIZE failed (errno {errno})");
        }
        var affinity = CpuBinding.Get(shell);
        ptrace.Kill(shell, Signals.SIGCONT);

        int child = FollowToFork(ptrace, shell);
        // The child's first stop (a seized tracee's children start with PTRACE_EVENT_STOP): it has run nothing yet.
        if (ptrace.WaitThread(child, out var status) != child || !status.Stopped)
            throw new RecordingSetupException($"the sandbox shell's child {child} {status} before the program started");
        if (cpu is { } c) CpuBinding.Bind(child, c);
        if (!ptrace.ResumeToSyscall(child))
            throw new RecordingSetupException($"the sandbox shell's child {child} could not be resumed (errno {ptrace.LastError})");
        return new Launched(child, shell, cpu, affinity);
    }

    /// <summary>
    /// Waits for the prologue's <c>kill -STOP $$</c>. The wait blocks (the stop is seen at once, no
    /// polling); a stop request meanwhile kills the shell through its pidfd (never a reused pid),
    /// which ends the wait and fails the launch.
    /// </summary>
    internal static void WaitForStop(IPtrace ptrace, int shell, RecordingControl? control)
    {
        using var handle = control is null ? null : ProcessHandle.Open(shell);
        control?.SetWake(() => handle?.Kill(Signals.SIGKILL));
        WaitStatus status;
        try
        {
            if (ptrace.WaitChild(shell, out status) != shell)
                throw new RecordingSetupException($"waitpid on the sandbox shell failed (errno {ptrace.LastError})");
        }
        finally
        {
            control?.SetWake(null);
        }
        if (!status.Stopped) throw new RecordingSetupException(PrologueFailed(status));
    }

    /// <summary>Runs the shell (exec'ing bash, signals passed on) to its fork of the program's process; lets the shell go and returns the child's pid.</summary>
    private static int FollowToFork(IPtrace ptrace, int shell)
    {
        while (true)
        {
            if (ptrace.WaitThread(shell, out var status) != shell)
                throw new RecordingSetupException($"waitpid on the sandbox shell failed (errno {ptrace.LastError})");
            if (status.Exited || status.Signaled) throw new RecordingSetupException(PrologueFailed(status));
            if (!status.Stopped) continue;
            int signal = 0;
            switch (status.Event)
            {
                case PtraceEvent.Fork or PtraceEvent.VFork or PtraceEvent.Clone:
                    if (!ptrace.GetEventMessage(shell, out ulong child))
                        throw new RecordingSetupException($"the sandbox shell's fork could not be followed (errno {ptrace.LastError})");
                    // From here on the shell is an ordinary untraced process waiting for its child.
                    ptrace.Detach(shell);
                    return (int)child;
                case 0:
                    // A signal for the shell (the SIGCONT that woke it): pass it on, but not our own SIGSTOP.
                    if (status.StopSignal is not (Signals.SIGSTOP or Signals.SIGTRAP)) signal = status.StopSignal;
                    break;
            }
            if (!ptrace.Continue(shell, signal))
                throw new RecordingSetupException($"the sandbox shell could not be resumed (errno {ptrace.LastError})");
        }
    }

    private static string PrologueFailed(WaitStatus status) =>
        status.Exited && status.ExitCode == 125
            ? "the sandbox prologue failed: a resource limit or the working directory could not be set (see the message above)"
            : $"the sandbox shell {status} before the program started";

    /// <summary>After recording: the parent shell exits once its child is gone; reap it (kill it if it lingers 2 s).</summary>
    public static void ReapShell(IPtrace ptrace, int shell)
    {
        if (shell <= 0) return;
        // No handle: the shell was reaped already (a wait for any child took it); nothing to do.
        using var handle = ProcessHandle.Open(shell);
        if (handle is null) return;
        if (!handle.WaitExit(2000))
        {
            handle.Kill(Signals.SIGKILL);
            handle.WaitExit(2000);
        }
        ptrace.WaitChildNoHang(shell, out _);
    }

    private static string PtraceScopeHint()
    {
        try
        {
            var scope = File.ReadAllText("/proc/sys/kernel/yama/ptrace_scope").Trim();
            return scope switch
            {
                "0" => "",
                "3" => "; kernel.yama.ptrace_scope=3 forbids all ptrace until reboot",
                _ => $"; kernel.yama.ptrace_scope={scope}, try: sysctl kernel.yama.ptrace_scope=0",
            };
        }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }
}
