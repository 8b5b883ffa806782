using System.Text.RegularExpressions;

namespace Ether.Replay.Cli.Tests;

/// <summary>
/// Transparency as a user meets it: a program reading /proc/self/status under `ether record` sees
/// no tracer, the analyst still finds what the kernel said in the trace (`ether sql` over the
/// annotations), `--no-transparency` shows the difference, and `--clock-rate` is checked.
/// </summary>
public sealed class TransparencyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tmp.").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int TracerPid(string status) => int.Parse(Regex.Match(status, @"TracerPid:\t(\d+)").Groups[1].Value);

    [Fact]
    public void The_program_sees_no_tracer_and_the_trace_keeps_what_the_kernel_said()
    {
        string trace = Path.Combine(_dir, "cat.etrace");
        var hidden = EtherProcess.Run(_dir, "record", "--mode", "syscalls", "-o", trace, "--", "/bin/cat", "/proc/self/status");
        Assert.True(hidden.ExitCode == 0, hidden.ToString());
        Assert.Equal(0, TracerPid(hidden.Stdout));
        Assert.Matches(@"State:\tR \(running\)", hidden.Stdout);

        var sql = EtherProcess.Run(_dir, "sql", "--csv", trace, "SELECT text FROM annotations WHERE key = 'transparency' AND text LIKE 'read(%'");
        Assert.True(sql.ExitCode == 0, sql.ToString());
        var original = Regex.Match(sql.Stdout, @"TracerPid:\\t(\d+)");
        Assert.True(original.Success, sql.ToString());
        Assert.NotEqual(0, int.Parse(original.Groups[1].Value)); // the kernel named the recorder

        var plain = EtherProcess.Run(_dir, "record", "--mode", "syscalls", "--no-transparency", "-o", Path.Combine(_dir, "plain.etrace"), "--", "/bin/cat", "/proc/self/status");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.NotEqual(0, TracerPid(plain.Stdout));
    }

    [Fact]
    public void The_clock_rate_is_checked_and_recorded_in_the_header()
    {
        EtherProcess.AssertCleanFailure(EtherProcess.Run(_dir, "record", "--clock-rate", "5", "--", "/bin/true"), "--clock-rate");
        string trace = Path.Combine(_dir, "rate.etrace");
        var r = EtherProcess.Run(_dir, "record", "--mode", "syscalls", "--clock-rate", "2000000", "-o", trace, "--", "/bin/true");
        Assert.True(r.ExitCode == 0, r.ToString());
        var info = EtherProcess.Run(_dir, "info", trace);
        Assert.Contains("clock_rate=2000000", info.Stdout);
        Assert.Contains("transparent=true", info.Stdout);
    }
}
