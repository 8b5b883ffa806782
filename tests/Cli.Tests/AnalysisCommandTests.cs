using System.Text.Json;
using P = Ether.Replay.Tests.Shared.FakePackedProgram;

namespace Ether.Replay.Cli.Tests;

/// <summary>The analysis subcommands as a user runs them: the real `ether` process, on fake recordings.</summary>
public sealed class AnalysisCommandTests
{
    [Fact]
    public void A_missing_file_is_one_clean_line()
    {
        using var dir = new TempDir();
        foreach (var args in new[] { ["syscalls", "nope.etrace"], ["sql", "nope.etrace", "SELECT 1"], ["at", "nope.etrace", "--step", "1"], ["export", "nope.etrace", "--out", "ds"], new[] { "unpack", "nope.etrace" } })
            EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, args), "nope.etrace");
    }

    [Fact]
    public void A_file_that_is_not_a_trace_is_one_clean_line()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("notes.txt"), "hello, not a trace\n");
        foreach (var command in new[] { "syscalls", "summary", "hot", "writes", "unpack" })
            EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, command, "notes.txt"), "not an .etrace file");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "at", "notes.txt", "--step", "0"), "not an .etrace file");
        Directory.CreateDirectory(dir.File("empty"));
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "sql", "empty", "SELECT 1"), "not a dataset folder");
    }

    [Fact]
    public void Invalid_sql_returns_duckdbs_message_on_one_line()
    {
        using var dir = new TempDir();
        P.Write(dir.File("p.etrace"), 1);
        var r = EtherProcess.Run(dir.Path, "sql", "p.etrace", "SELEC step FROM instructions");
        EtherProcess.AssertCleanFailure(r, "Parser Error: syntax error at or near \"SELEC\"");
        r = EtherProcess.Run(dir.Path, "sql", "p.etrace", "SELECT nosuch FROM instructions");
        EtherProcess.AssertCleanFailure(r, "Binder Error: Referenced column \"nosuch\" not found");
        r = EtherProcess.Run(dir.Path, "sql", "p.etrace", "SELECT error('boom') FROM instructions");
        EtherProcess.AssertCleanFailure(r, "boom");
    }

    [Fact]
    public void A_cut_trace_is_analysed_up_to_the_cut_with_one_warning()
    {
        using var dir = new TempDir();
        P.Write(dir.File("full.etrace"), 3, options: new Formats.Log.TraceWriterOptions { ChunkSteps = 16, ChunkAge = TimeSpan.FromHours(1) });
        var bytes = File.ReadAllBytes(dir.File("full.etrace"));
        File.WriteAllBytes(dir.File("cut.etrace"), bytes[..(bytes.Length * 2 / 3)]);

        var r = EtherProcess.Run(dir.Path, "syscalls", "cut.etrace");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Single(r.StderrLines);
        Assert.StartsWith("ether: warning: cut.etrace: the trace is cut or damaged", r.StderrLines[0]);
        Assert.Contains("readable prefix", r.StderrLines[0]);
        Assert.Equal(["[4000] mmap(NULL, 65536, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000",
                      "[4000] mmap(NULL, 65536, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000010000"], r.StdoutLines);

        // The cached dataset remembers the warning; the layer report covers the prefix.
        r = EtherProcess.Run(dir.Path, "unpack", "cut.etrace");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("cut or damaged", r.Stderr);
        Assert.Contains("0x402000 *", r.Stdout);

        r = EtherProcess.Run(dir.Path, "at", "cut.etrace", "--step", "10", "--regs");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("cut or damaged", r.Stderr);
        Assert.Contains("step 10 of", r.Stdout);
    }

    [Fact]
    public void Sql_on_a_trace_builds_a_cache_next_to_it_and_rebuilds_it_when_the_trace_changes()
    {
        using var dir = new TempDir();
        P.Write(dir.File("p.etrace"), 1);
        var r = EtherProcess.Run(dir.Path, "sql", "p.etrace", "SELECT count(*) AS n FROM instructions", "--csv");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(Directory.Exists(dir.File("p.etrace.parquet/instructions")));
        string stamp = dir.File("p.etrace.parquet/.ether-cache.json");
        var first = File.GetLastWriteTimeUtc(stamp);
        long n1 = long.Parse(r.StdoutLines[1]);

        r = EtherProcess.Run(dir.Path, "sql", "p.etrace", "SELECT count(*) AS n FROM instructions", "--csv");
        Assert.Equal(first, File.GetLastWriteTimeUtc(stamp)); // reused

        P.Write(dir.File("p.etrace"), 3);
        File.SetLastWriteTimeUtc(dir.File("p.etrace"), DateTime.UtcNow.AddMinutes(1));
        r = EtherProcess.Run(dir.Path, "sql", "p.etrace", "SELECT count(*) AS n FROM instructions", "--csv");
        Assert.True(long.Parse(r.StdoutLines[1]) > n1, r.ToString());
    }

    [Fact]
    public void The_cache_goes_to_the_temp_folder_when_it_cannot_sit_next_to_the_trace()
    {
        using var dir = new TempDir();
        P.Write(dir.File("p.etrace"), 1);
        File.WriteAllText(dir.File("p.etrace.parquet"), "in the way"); // as a read-only folder would be
        var r = EtherProcess.Run(dir.Path, "sql", "p.etrace", "SELECT count(*) FROM unpack_layers", "--csv");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("2", r.StdoutLines[1]);
        string cache = Analyzer.Query.DatasetTarget.Candidates(dir.File("p.etrace")).Last();
        Assert.True(Directory.Exists(cache), cache);
        Directory.Delete(cache, recursive: true);
    }

    [Fact]
    public void A_dataset_of_two_traces_answers_a_group_by_trace()
    {
        using var dir = new TempDir();
        P.Write(dir.File("one.etrace"), 1);
        P.Write(dir.File("three.etrace"), 3);
        var r = EtherProcess.Run(dir.Path, "export", "one.etrace", "three.etrace", "--out", "ds");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(2, r.StdoutLines.Length);
        r = EtherProcess.Run(dir.Path, "sql", "ds", "SELECT trace, count(*) AS instructions, max(layer) AS layers FROM instructions GROUP BY trace ORDER BY trace", "--csv");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.StdoutLines;
        Assert.Equal("trace,instructions,layers", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("one-", lines[1]);
        Assert.EndsWith(",1", lines[1]);
        Assert.StartsWith("three-", lines[2]);
        Assert.EndsWith(",3", lines[2]);
        // Exporting a trace again replaces its partition instead of adding to it.
        EtherProcess.Run(dir.Path, "export", "one.etrace", "--out", "ds");
        var again = EtherProcess.Run(dir.Path, "sql", "ds", "SELECT trace, count(*) AS instructions, max(layer) AS layers FROM instructions GROUP BY trace ORDER BY trace", "--csv");
        Assert.Equal(r.Stdout, again.Stdout);
    }

    [Fact]
    public void Sql_prints_tables_csv_json_and_parquet()
    {
        using var dir = new TempDir();
        P.Write(dir.File("p.etrace"), 1);
        const string query = "SELECT step, rip, disasm(bytes, rip) AS code, bytes FROM instructions WHERE rip = 0x401005 ORDER BY step LIMIT 2"; // the stub's xor
        var table = EtherProcess.Run(dir.Path, "sql", "p.etrace", query);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"^step\s+rip\s+code\s+bytes$", table.StdoutLines[0]);
        Assert.Contains("xor byte ptr [rdi], 0x5a", table.StdoutLines[2]);
        Assert.Contains("80375a", table.StdoutLines[2]);
        Assert.Equal("(2 rows)", table.StdoutLines[^1]);

        var csv = EtherProcess.Run(dir.Path, "sql", "p.etrace", query, "--csv");
        Assert.Equal("step,rip,code,bytes", csv.StdoutLines[0]);
        Assert.Matches(@"^\d+,4198405,xor byte ptr \[rdi\]\, 0x5a,80375a$", csv.StdoutLines[1].Replace("\"", ""));

        var json = EtherProcess.Run(dir.Path, "sql", "p.etrace", query, "--json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        Assert.Equal(0x401005UL, doc.RootElement[0].GetProperty("rip").GetUInt64());
        Assert.Equal("xor byte ptr [rdi], 0x5a", doc.RootElement[0].GetProperty("code").GetString());

        var parquet = EtherProcess.Run(dir.Path, "sql", "p.etrace", query, "--parquet", "out.parquet");
        Assert.True(parquet.ExitCode == 0, parquet.ToString());
        var back = EtherProcess.Run(dir.Path, "sql", "p.etrace", $"SELECT count(*), min(rip) FROM read_parquet('{dir.File("out.parquet")}')", "--csv");
        Assert.Equal("2,4198405", back.StdoutLines[1]);
    }

    [Fact]
    public void Syscalls_c_counts_equal_a_group_by_over_the_raw_table()
    {
        using var dir = new TempDir();
        AllKindsTrace.Write(dir.File("a.etrace"));
        var summary = EtherProcess.Run(dir.Path, "syscalls", "a.etrace", "-c");
        Assert.True(summary.ExitCode == 0, summary.ToString());
        var fromSummary = summary.StdoutLines.Skip(2).TakeWhile(l => !l.StartsWith("---")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p.Length == 4 ? $"{p[3]},{p[1]},{p[2]}" : $"{p[2]},{p[1]},0").Order().ToList();
        var sql = EtherProcess.Run(dir.Path, "sql", "a.etrace", "SELECT name, count(*), count(*) FILTER (WHERE errno > 0) FROM syscalls GROUP BY name", "--csv");
        Assert.Equal(sql.StdoutLines.Skip(1).Order(), fromSummary);
        Assert.Contains("total", summary.StdoutLines[^1]);
    }

    [Fact]
    public void Each_analysis_command_runs_on_a_packed_program()
    {
        using var dir = new TempDir();
        P.Write(dir.File("p.etrace"), 2);
        var unpack = EtherProcess.Run(dir.Path, "unpack", "p.etrace", "--dump", "dumps");
        Assert.True(unpack.ExitCode == 0, unpack.ToString());
        Assert.Contains("2 written layers after layer 0", unpack.Stdout);
        Assert.Contains("original entry point: 0x402000", unpack.Stdout);
        Assert.True(File.Exists(dir.File("dumps/pid4000-image0-unpacked.elf")));
        Assert.Equal(P.LayerCode(2, 2), File.ReadAllBytes(dir.File("dumps/pid4000-image0-layer2-0x7f0000000000-0x7f0000010000.bin"))[..P.LayerCode(2, 2).Length]);

        var writes = EtherProcess.Run(dir.Path, "writes", "p.etrace");
        Assert.True(writes.ExitCode == 0, writes.ToString());
        Assert.Matches(@"4000\s+0x402000\s+0x402014\s+20\s+20\s+0\s+1\s+0x401007 \(20\)", writes.Stdout);

        var hot = EtherProcess.Run(dir.Path, "hot", "p.etrace", "-n", "1");
        Assert.True(hot.ExitCode == 0, hot.ToString());
        Assert.StartsWith("#1  0x401007-0x401011", hot.StdoutLines[0]);
        Assert.Contains("xor byte ptr [rdi], 0x5a", hot.Stdout);

        var summary = EtherProcess.Run(dir.Path, "summary", "p.etrace");
        Assert.True(summary.ExitCode == 0, summary.ToString());
        Assert.Contains("target     /work/tests/packed", summary.Stdout);
        Assert.Contains("0x402000 (step", summary.Stdout);

        var at = EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "140", "--regs", "--mem", "0x402000:20", "--mem", "rdi:4");
        Assert.True(at.ExitCode == 0, at.ToString());
        Assert.Contains("b9 0e 00 00 00 80 37 5a 48 ff c7 ff c9 75 f6 e9", at.Stdout); // layer 1 decrypted: mov ecx, 14 (layer 2's length) ...
        Assert.Contains("last written: step", at.Stdout);
        // A register and offset, as the browser's memory pane takes it: rdi-2 is two bytes below rdi.
        ulong rdi = Convert.ToUInt64(System.Text.RegularExpressions.Regex.Match(at.Stdout, @"rdi\s+0x([0-9a-f]{16})").Groups[1].Value, 16);
        var below = EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "140", "--mem", "rdi-2:4");
        Assert.True(below.ExitCode == 0, below.ToString());
        Assert.Contains($"memory of pid 4000 at 0x{rdi - 2:x}, 4 bytes", below.Stdout);

        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "99999"), "outside the trace");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "5", "--mem", "zz:4"), "--mem zz:4");
    }
}
