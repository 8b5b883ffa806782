using Ether.Replay.Recorder.Backends.Ptrace;
using System.Diagnostics;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>
/// Runs suite programs natively the way a user's shell does — bash forks and execs them (so their
/// parent is a shell, "_" names them, they are not session leaders) — in a fresh working
/// directory with a neutral name. <see cref="UnderLoad"/> keeps both CPUs busy meanwhile, so that
/// timing thresholds are shown to hold on a loaded machine.
/// </summary>
public static class NativeRunner
{
    public static ProgramRun Run(SuiteProgram program)
    {
        string cwd = Directory.CreateTempSubdirectory("tmp.").FullName;
        try
        {
            var psi = new ProcessStartInfo("/bin/bash") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            // A bash that closes every descriptor above 2, then becomes the program's parent shell: the test host's
            // runtime opens files without close-on-exec for an instant (at each thread start and GC), and
            // Process.Start at that instant handed one to the program, which leaked_fds reported.
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(CloseDescriptorsThenRun);
            psi.ArgumentList.Add(program.Binary);
            using var p = Process.Start(psi)!;
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                p.Kill(entireProcessTree: true);
                return new ProgramRun(stdout.Result, null, null, "timed out");
            }
            p.WaitForExit();
            // bash reports a death by signal N as exit code 128 + N.
            int code = p.ExitCode;
            return code > 128 && code < 160 ? new ProgramRun(stdout.Result, null, code - 128, stderr.Result) : new ProgramRun(stdout.Result, code, null, stderr.Result);
        }
        finally
        {
            Directory.Delete(cwd, recursive: true);
        }
    }

    /// <summary>bash -c script: closes descriptors 3 and up, then execs the parent shell the recorder uses too
    /// (<see cref="Sandbox.ParentShell"/> -c <see cref="Sandbox.ParentScript"/> PROGRAM), so the program's parent looks
    /// the same in both runs.</summary>
    private static readonly string CloseDescriptorsThenRun =
        "for f in /proc/$$/fd/*; do n=${f##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done 2>/dev/null; " +
        $"exec {Sandbox.ParentShell} -c {Sandbox.Quote(Sandbox.ParentScript)} \"$0\" \"$@\"";

    /// <summary>Runs <paramref name="action"/> while one busy-looping shell per CPU (and one more) competes for the CPUs.</summary>
    public static T UnderLoad<T>(Func<T> action)
    {
        var hogs = new List<Process>();
        try
        {
            for (int i = 0; i <= Environment.ProcessorCount; i++)
            {
                var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add("while :; do :; done");
                hogs.Add(Process.Start(psi)!);
            }
            return action();
        }
        finally
        {
            foreach (var h in hogs)
            {
                try { h.Kill(); h.WaitForExit(); } catch (InvalidOperationException) { }
                h.Dispose();
            }
        }
    }
}
