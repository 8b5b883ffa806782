using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Starts the sandbox prologue with posix_spawn, waits until the shell has stopped itself
/// (<c>kill -STOP $$</c>), seizes it and lets it continue into exec. Must run on the tracer thread.
/// </summary>
internal static class TargetLauncher
{
    public const int Options = PtraceOptions.TraceSysGood | PtraceOptions.TraceExec | PtraceOptions.TraceFork
        | PtraceOptions.TraceVFork | PtraceOptions.TraceClone | PtraceOptions.ExitKill;

    /// <summary>Returns the pid of the seized, continuing prologue shell (it will exec the program).</summary>
    /// <param name="cpu">Bind the target (and so everything it starts) to this CPU, or null.</param>
    public static int Launch(IPtrace ptrace, Sandbox sandbox, TargetProgram program, SandboxOptions options, int? cpu = null)
    {
        var argv = sandbox.ShellArgv(program.Path, program.Arguments, stopBeforeExec: true);
        int pid;
        try
        {
            pid = PosixSpawn.Spawn(argv, new PosixSpawn.Stdio(options.StdinPath, options.StdoutPath, options.StderrPath));
        }
        catch (InvalidOperationException e)
        {
            throw new RecordingSetupException(e.Message);
        }

        if (ptrace.WaitChild(pid, out var status) != pid)
            throw new RecordingSetupException($"waitpid on the sandbox shell failed (errno {ptrace.LastError})");
        if (!status.Stopped)
        {
            string why = status.Exited && status.ExitCode == 125
                ? "the sandbox prologue failed (see the message above; network isolation needs root or user namespaces — or pass --allow-network)"
                : $"the sandbox shell {status} before the program started";
            throw new RecordingSetupException(why);
        }

        if (!ptrace.Seize(pid, Options))
        {
            int errno = ptrace.LastError;
            ptrace.Kill(pid, Signals.SIGKILL);
            ptrace.WaitChild(pid, out _);
            throw new RecordingSetupException(errno == Errno.EPERM
                ? $"ptrace is not permitted here (PTRACE_SEIZE: EPERM{PtraceScopeHint()}); run as root, or allow ptrace (CAP_SYS_PTRACE, container seccomp profile)"
                : $"PTRACE_SEIZE failed (errno {errno})");
        }
        if (cpu is { } c) CpuBinding.Bind(pid, c);
        ptrace.Kill(pid, Signals.SIGCONT);
        return pid;
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
