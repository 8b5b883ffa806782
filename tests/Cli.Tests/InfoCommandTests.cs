using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Formats.Synthetic;

namespace Ether.Replay.Cli.Tests;

public sealed class InfoCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteTrace(string name, long instructions, bool close)
    {
        string path = Path.Combine(_dir.Path, name);
        var header = new TraceHeader
        {
            Backend = "synthetic", ToolVersion = "0.1.0", TargetPath = "/bin/demo", TargetArgv = ["demo", "--fast"],
            TargetSha256 = new string('a', 64), StartTime = DateTimeOffset.UtcNow, Host = "testhost",
            BackendParameters = new Dictionary<string, string> { ["mode"] = "full" },
        };
        // Chunks by step count only (no age limit): on a loaded machine a 1 s age would cut more of them.
        var w = TraceWriter.Create(path, header, new TraceWriterOptions { ChunkSteps = 10_000, ChunkAge = TimeSpan.FromHours(1) });
        SyntheticTrace.Write(w, new SyntheticOptions { Instructions = instructions });
        if (close) w.Close(StopReason.MaxSteps, "10000");
        else w.Flush(); // as a killed recorder leaves it: chunks, no footer
        return path;
    }

    [Fact]
    public void A_clean_trace_shows_its_header_counts_and_why_it_stopped()
    {
        var path = WriteTrace("clean.etrace", 50_000, close: true);
        var r = EtherProcess.Run(_dir.Path, "info", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("backend          synthetic (mode=full)", r.Stdout);
        Assert.Contains("target           /bin/demo", r.Stdout);
        Assert.Contains("argv             demo --fast", r.Stdout);
        Assert.Contains("closed cleanly; recording stopped: step limit reached (--max-steps) (10000)", r.Stdout);
        Assert.Contains("instructions     50,000", r.Stdout);
        Assert.Contains("chunks           5", r.Stdout);
        Assert.Matches(@"bytes/insn       \d+\.\d\d", r.Stdout);
        Assert.Matches(@"instruction\s+50,000", r.Stdout);
        Assert.Matches(@"memory-write\s+[1-9]", r.Stdout);
    }

    [Fact]
    public void Columns_show_where_the_bytes_go()
    {
        var path = WriteTrace("columns.etrace", 50_000, close: true);
        var r = EtherProcess.Run(_dir.Path, "info", "--columns", path);
        Assert.Equal(0, r.ExitCode);
        foreach (var column in new[] { "clock", "instruction-rips", "instruction-code", "register-masks", "register-values", "write-values", "side" })
            Assert.Matches($@"\n  {column} +[\d,]+ +[\d,]+ +\d+\.\d{{3}} +\d+\.\d%", r.Stdout);
        Assert.Matches(@"\n    side: keyframe +[\d,]+ +[\d,]+ +\d+\.\d{3} +\d+\.\d% +\(5 events\)", r.Stdout);
        Assert.Matches(@"\n    side: syscall-entry .*\(\d+ events\)", r.Stdout);
        Assert.Contains($"  {"file",-20} {"",14} {new FileInfo(path).Length,14:N0}", r.Stdout);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(r.Stdout,
            @"register changes \d\d,\d{3}: [\d,]+ stored against their instruction's prediction, [\d,]+ \(\d+\.\d%\) predicted exactly"), r.Stdout);
    }

    [Fact]
    public void A_trace_without_footer_is_reported_as_recovered()
    {
        var path = WriteTrace("killed.etrace", 35_000, close: false);
        using (var reader = TraceReader.Open(path)) Assert.False(reader.Summary.ClosedCleanly);
        var r = EtherProcess.Run(_dir.Path, "info", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("recovered: 4 chunks, last step 35000; the recorder did not finish", r.Stdout);
    }

    [Fact]
    public void A_cut_trace_names_where_it_was_cut()
    {
        var path = WriteTrace("cut.etrace", 35_000, close: true);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var r = EtherProcess.Run(_dir.Path, "info", "--verify", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"recovered: \d+ chunks, last step \d+", r.Stdout);
        Assert.Matches(@"damage\s+the file ends inside the frame at byte \d+", r.Stdout);
        Assert.Contains("verified: all", r.Stdout);
    }

    [Fact]
    public void Bad_input_gets_one_line_and_a_non_zero_exit()
    {
        var missing = EtherProcess.Run(_dir.Path, "info", Path.Combine(_dir.Path, "nope.etrace"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"ether: {Path.Combine(_dir.Path, "nope.etrace")}: no such file\n", missing.Stderr);

        var text = Path.Combine(_dir.Path, "notes.txt");
        File.WriteAllText(text, "hello\n");
        var notTrace = EtherProcess.Run(_dir.Path, "info", text);
        Assert.Equal(1, notTrace.ExitCode);
        Assert.Equal("ether: not an .etrace file: it does not start with the trace magic (at byte 0)\n", notTrace.Stderr);

        var dir = EtherProcess.Run(_dir.Path, "info", _dir.Path);
        Assert.Equal(1, dir.ExitCode);
        Assert.Single(dir.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Every_command_explains_itself()
    {
        var root = EtherProcess.Run(_dir.Path, "--help");
        Assert.Equal(0, root.ExitCode);
        Assert.Contains("info", root.Stdout);
        var info = EtherProcess.Run(_dir.Path, "info", "--help");
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("--verify", info.Stdout);
    }
}
