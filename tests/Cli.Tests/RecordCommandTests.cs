using System.Diagnostics;

namespace Ether.Replay.Cli.Tests;

/// <summary>
/// `ether record` as a user meets it: bad input is one line and exit 1; a step limit, a time limit,
/// a crashing target and Ctrl-C each close the trace cleanly, and `ether info` says why it stopped.
/// </summary>
public sealed class RecordCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string StopState(string trace)
    {
        var info = EtherProcess.Run(_dir.Path, "info", trace);
        Assert.True(info.ExitCode == 0, info.ToString());
        return info.StdoutLines.Single(l => l.StartsWith("state")).Substring(17);
    }

    [Fact]
    public void Bad_input_is_one_line_and_exit_1()
    {
        EtherProcess.AssertCleanFailure(EtherProcess.Run(_dir.Path, "record", "--", Path.Combine(_dir.Path, "missing")), "program not found");

        string text = Path.Combine(_dir.Path, "notes.bin");
        File.WriteAllText(text, "hello\n");
        Assert.Equal(0, EtherProcess.Exec(_dir.Path, "chmod", "+x", text).ExitCode);
        EtherProcess.AssertCleanFailure(EtherProcess.Run(_dir.Path, "record", "--", text), "not an x86-64 ELF executable or a #! script");

        EtherProcess.AssertCleanFailure(EtherProcess.Run(_dir.Path, "record", "-o", Path.Combine(_dir.Path, "no", "such", "dir", "t.etrace"), "--", "/bin/true"), "cannot write");
    }

    [Fact]
    public void A_relative_argument_that_only_exists_in_the_users_directory_gets_a_hint_and_cwd_runs_it_there()
    {
        File.WriteAllText(Path.Combine(_dir.Path, "in.txt"), "hello from the user's directory\n");
        string trace = Path.Combine(_dir.Path, "cat.etrace");

        // In the scratch directory cat cannot see in.txt: it fails as it would anywhere else, and the
        // summary says why.
        var scratch = EtherProcess.Run(_dir.Path, "record", "--mode", "syscalls", "-o", trace, "--", "/bin/cat", "in.txt", "-n");
        Assert.True(scratch.ExitCode == 0, scratch.ToString());
        Assert.Contains("in.txt: No such file or directory", scratch.Stderr);
        Assert.Contains(scratch.StderrLines, l => l.StartsWith("hint: in.txt is a relative path in " + _dir.Path) && l.Contains("--cwd ."));

        // With --cwd . it runs here, prints what cat prints natively, and there is nothing to hint.
        var native = EtherProcess.Exec(_dir.Path, "/bin/cat", "in.txt", "-n");
        var here = EtherProcess.Run(_dir.Path, "record", "--mode", "syscalls", "--cwd", ".", "-o", trace, "--", "/bin/cat", "in.txt", "-n");
        Assert.True(here.ExitCode == 0, here.ToString());
        Assert.Equal(native.Stdout, here.Stdout);
        Assert.DoesNotContain(here.StderrLines, l => l.StartsWith("hint:"));
    }

    [Fact]
    public void A_step_limit_stops_at_exactly_that_many_steps()
    {
        string trace = Path.Combine(_dir.Path, "limit.etrace");
        var r = EtherProcess.Run(_dir.Path, "record", "--max-steps", "1000", "-o", trace, "--", "/bin/true");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("closed cleanly; recording stopped: step limit reached (--max-steps) (max steps 1000 reached)", StopState(trace));
        Assert.Contains(EtherProcess.Run(_dir.Path, "info", trace).StdoutLines, l => l == "instructions     1,000");
    }

    [Fact]
    public void A_time_limit_stops_a_target_that_sleeps()
    {
        string trace = Path.Combine(_dir.Path, "sleep.etrace");
        var r = EtherProcess.Run(_dir.Path, "record", "--timeout", "1", "-o", trace, "--", "/bin/sleep", "60");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("closed cleanly; recording stopped: time limit reached (--timeout)", StopState(trace));
    }

    [Fact]
    public void A_crashing_target_is_recorded_up_to_its_crash()
    {
        string source = Path.Combine(_dir.Path, "crash.c");
        File.WriteAllText(source, "int main(void) { *(volatile int *)0 = 1; return 0; }\n");
        Assert.Equal(0, EtherProcess.Exec(_dir.Path, "gcc", "-O1", "-static", "-o", "crash", source).ExitCode);
        string trace = Path.Combine(_dir.Path, "crash.etrace");
        var r = EtherProcess.Run(_dir.Path, "record", "-o", trace, "--", "./crash");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"^closed cleanly; recording stopped: the target crashed \(pid \d+ killed by SIGSEGV\)$", StopState(trace));
    }

    [Theory]
    [InlineData(4096)] // while recording: the first chunks are written
    [InlineData(1)]    // at once: the header is written, the sandbox is still starting
    public async Task Ctrl_c_closes_the_trace_with_what_was_recorded(int bytesWritten)
    {
        string trace = Path.Combine(_dir.Path, "interrupted.etrace");
        // Ctrl-C reaches a program in the terminal's foreground, whose SIGINT is at its default. A test
        // run started in the background by a script (land.sh &, CI) inherits SIGINT *ignored*, and .NET
        // keeps a signal ignored at start ignored (as shells do for background jobs): `kill -INT` would
        // then never reach ether's handler. env --default-signal=INT gives the recorder a terminal's
        // disposition whatever started the tests (env execs dotnet: same pid).
        var psi = new ProcessStartInfo("env") { WorkingDirectory = _dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", EtherProcess.EtherDll, "record", "-o", trace, "--", "/bin/sleep", "60" }) psi.ArgumentList.Add(a);
        using var recorder = Process.Start(psi)!;
        var output = recorder.StandardOutput.ReadToEndAsync();
        var errors = recorder.StandardError.ReadToEndAsync();
        // Wait until the recorder has written that much (the program is running), then interrupt it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((!File.Exists(trace) || new FileInfo(trace).Length < bytesWritten) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        if (bytesWritten > 1) Thread.Sleep(500);
        Assert.Equal(0, EtherProcess.Exec(_dir.Path, "kill", "-INT", recorder.Id.ToString()).ExitCode);
        if (!recorder.WaitForExit(30_000))
        {
            string threads = ThreadStates(recorder.Id);
            recorder.Kill(entireProcessTree: true);
            Assert.Fail($"the recorder did not stop after SIGINT; its threads (state, wait channel): {threads}");
        }
        Assert.True(recorder.ExitCode == 0, $"{await output}\n{await errors}");
        Assert.Equal("closed cleanly; recording stopped: interrupted (Ctrl-C / SIGTERM) (SIGINT)", StopState(trace));
    }

    /// <summary>What each thread of a process is doing (for a failure message): name, state, kernel wait channel.</summary>
    private static string ThreadStates(int pid)
    {
        try
        {
            return string.Join("; ", Directory.GetDirectories($"/proc/{pid}/task").Select(task =>
            {
                string name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                string state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
                string wchan = File.ReadAllText(Path.Combine(task, "wchan")).Trim();
                return $"{Path.GetFileName(task)} {name} {state} {wchan}";
            }));
        }
        catch (IOException e) { return e.Message; }
    }

    private static string SummaryLine(EtherProcess.Result r, string key) =>
        r.StderrLines.Single(l => l.StartsWith(key + " ", StringComparison.Ordinal))[15..];

    [Fact]
    public void The_scratch_directory_goes_with_what_the_program_dropped_unless_kept()
    {
        const string dropper = "echo payload > dropped.bin; pwd";
        var removed = EtherProcess.Run(_dir.Path, "record", "--mode", "syscalls", "-o", Path.Combine(_dir.Path, "r.etrace"), "--", "/bin/sh", "-c", dropper);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        string scratch = removed.Stdout.Trim();
        Assert.StartsWith(Path.Combine(Path.GetTempPath(), "tmp."), scratch); // a neutral name, as mktemp -d gives
        Assert.False(Directory.Exists(scratch), $"{scratch} was left behind");
        Assert.Equal($"{scratch} (removed with its files; --keep-workdir DIR keeps them)", SummaryLine(removed, "working dir"));

        string keep = Path.Combine(_dir.Path, "dropped");
        var kept = EtherProcess.Run(_dir.Path, "record", "--mode", "syscalls", "--keep-workdir", keep, "-o", Path.Combine(_dir.Path, "k.etrace"), "--", "/bin/sh", "-c", dropper);
        Assert.True(kept.ExitCode == 0, kept.ToString());
        Assert.Equal(keep, kept.Stdout.Trim());
        Assert.Equal("payload\n", File.ReadAllText(Path.Combine(keep, "dropped.bin")));
        Assert.Equal($"{keep} (kept, with the files the program left)", SummaryLine(kept, "working dir"));

        EtherProcess.AssertCleanFailure(EtherProcess.Run(_dir.Path, "record", "--keep-workdir", keep, "--", "/bin/true"), "it exists already");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(_dir.Path, "record", "--keep-workdir", Path.Combine(_dir.Path, "no", "such"), "--", "/bin/true"), "its parent directory does not exist");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(_dir.Path, "record", "--keep-workdir", Path.Combine(_dir.Path, "k2"), "--cwd", _dir.Path, "--", "/bin/true"), "give one");
    }

    [Fact]
    public void Without_the_right_to_make_a_network_namespace_the_sample_never_runs_and_the_error_is_one_line()
    {
        // Root without CAP_SYS_ADMIN (dropped from the bounding set: exec drops it from the effective set).
        string ran = Path.Combine(_dir.Path, "ran");
        string[] noAdmin = ["--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", "dotnet", EtherProcess.EtherDll];
        var denied = EtherProcess.Exec(_dir.Path, "setpriv", [.. noAdmin, "record", "--mode", "syscalls", "-o", Path.Combine(_dir.Path, "d.etrace"), "--", "/bin/sh", "-c", $"touch {ran}"]);
        EtherProcess.AssertCleanFailure(denied, "network isolation failed: unshare(CLONE_NEWNET): Operation not permitted (needs root: CAP_SYS_ADMIN); or pass --allow-network");
        Assert.False(File.Exists(ran), "the sample ran although its sandbox could not be made");
        Assert.False(File.Exists(Path.Combine(_dir.Path, "d.etrace")), "a trace of a recording that never started was left");

        var allowed = EtherProcess.Exec(_dir.Path, "setpriv", [.. noAdmin, "record", "--mode", "syscalls", "--allow-network", "-o", Path.Combine(_dir.Path, "a.etrace"), "--", "/bin/sh", "-c", $"touch {ran}"]);
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.True(File.Exists(ran));
    }

    private static string[] Interfaces(string procNetDev) =>
        [.. procNetDev.Split('\n').Where(l => l.Contains(':')).Select(l => l.Split(':')[0].Trim()).Where(n => !n.Contains('|'))];

    [Fact]
    public void The_sample_runs_without_network_in_a_scratch_directory_with_limits()
    {
        const string probe = "cat /proc/net/dev; echo cwd=$(pwd); echo core=$(ulimit -c)";
        var sandboxed = EtherProcess.Run(_dir.Path, "record", "--mode", "syscalls", "-o", Path.Combine(_dir.Path, "s.etrace"), "--", "/bin/sh", "-c", probe);
        Assert.True(sandboxed.ExitCode == 0, sandboxed.ToString());
        Assert.Equal(["lo"], Interfaces(sandboxed.Stdout));
        Assert.Matches($@"cwd={System.Text.RegularExpressions.Regex.Escape(Path.GetTempPath().TrimEnd('/'))}/tmp\.\w+\n", sandboxed.Stdout);
        Assert.Contains("core=0\n", sandboxed.Stdout);

        var open = EtherProcess.Run(_dir.Path, "record", "--mode", "syscalls", "--allow-network", "-o", Path.Combine(_dir.Path, "n.etrace"), "--", "/bin/sh", "-c", probe);
        Assert.True(open.ExitCode == 0, open.ToString());
        Assert.Equal(Interfaces(File.ReadAllText("/proc/net/dev")).Order(), Interfaces(open.Stdout).Order());
    }
}
