namespace Ether.Replay.Analyzer.Tests.EndToEnd;

/// <summary>
/// Programs the tests build with gcc, recorded by the real ptrace recorder (`ether record`), then
/// analysed: exactly N written layers with the right entries for an N-layer packer, a runnable
/// unpacked ELF, the syscall listing of /bin/ls against the trace's events, and a full export
/// round trip read back with DuckDB.
/// </summary>
public sealed class RecordedProgramTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    public void A_program_with_n_nested_layers_yields_exactly_n_written_layers(int layers, bool reuse)
    {
        using var dir = new TempDir();
        var program = LayeredProgram.Build(dir.Path, layers, reuse);
        string trace = RecordedTrace.Record(dir.Path, "layers", "full", program.Path);

        var r = EtherProcess.Run(dir.Path, "unpack", trace);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var db = AnalysisDatabase.Open(DatasetTarget.Resolve(trace, null, out _));
        var rows = UnpackReport.Layers(db);
        var main = rows.Where(l => l.Image == rows.Max(x => x.Image)).ToList(); // the image after the recorder's exec
        Assert.Equal(Enumerable.Range(0, layers + 1), main.Select(l => l.Layer));
        for (int k = 1; k <= layers; k++)
        {
            var l = main[k];
            Assert.Equal(program.LayerAddress(k), l.EntryAddress);
            Assert.Equal((long)program.Code(k).Length, l.BytesWritten);
            Assert.Equal(program.LayerAddress(k) == LayeredProgram.Layer1Area, l.MainImage);
        }
        Assert.Contains($"original entry point: 0x{LayeredProgram.Layer1Area:x}", r.Stdout);
        // The deepest layer printed the message.
        Assert.Contains(SyscallListing.Lines(db, new SyscallFilter { Names = ["write"] }), line => line.Contains("unpacked"));
    }

    [Fact]
    public void The_dumped_image_of_a_one_layer_program_runs_and_prints_what_the_original_prints()
    {
        using var dir = new TempDir();
        var program = LayeredProgram.Build(dir.Path, 1);
        var original = EtherProcess.Exec(dir.Path, program.Path);
        Assert.Equal(0, original.ExitCode);
        string trace = RecordedTrace.Record(dir.Path, "layers", "full", program.Path);
        // The dump must not lean on the original file: move it away first.
        File.Move(program.Path, program.Path + ".gone");
        var r = EtherProcess.Run(dir.Path, "unpack", trace, "--dump", "dumps");
        Assert.True(r.ExitCode == 0, r.ToString());
        string elf = Directory.GetFiles(dir.File("dumps"), "*-unpacked.elf").Single();
        var run = EtherProcess.Exec(dir.Path, elf);
        Assert.Equal(original.Stdout, run.Stdout);
        Assert.Equal(0, run.ExitCode);
    }

    [Fact]
    public void The_syscall_listing_of_ls_matches_the_traces_events_one_for_one()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a-file"), "x");
        string trace = RecordedTrace.Record(dir.Path, "ls", "syscalls", "/bin/ls", "-l", dir.Path);

        using var reader = TraceReader.Open(trace);
        var events = reader.Events().ToList();
        var r = EtherProcess.Run(dir.Path, "syscalls", trace, "--steps");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.StdoutLines;
        // One line per call: every entry event, plus exits whose entry the trace does not have.
        var expected = new List<string>();
        var pending = new Dictionary<(int, int), SyscallEntryEvent>();
        foreach (var e in events)
        {
            if (e is SyscallEntryEvent n) { expected.Add($"[{n.Pid}] [step {n.Step}] {n.Name}("); pending[(n.Pid, n.Tid)] = n; }
            if (e is SyscallExitEvent x && !pending.Remove((x.Pid, x.Tid))) expected.Add($"[{x.Pid}] [step {x.Step}] {x.Name}(");
        }
        Assert.Equal(expected.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++) Assert.StartsWith(expected[i], lines[i]);
        Assert.Contains(lines, l => l.Contains("getdents64(") || l.Contains("getdents("));
        Assert.Contains(lines, l => l.Contains("exit_group("));

        // -c counts equal a GROUP BY over the raw table.
        var c = EtherProcess.Run(dir.Path, "syscalls", trace, "-c");
        var fromSummary = c.StdoutLines.Skip(2).TakeWhile(l => !l.StartsWith("---")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p.Length == 4 ? $"{p[3]},{p[1]},{p[2]}" : $"{p[2]},{p[1]},0").Order().ToList();
        var sql = EtherProcess.Run(dir.Path, "sql", trace, "SELECT name, count(*), count(*) FILTER (WHERE errno > 0) FROM syscalls GROUP BY name", "--csv");
        Assert.Equal(sql.StdoutLines.Skip(1).Order(), fromSummary);
    }

    [Fact]
    public void Export_then_read_parquet_round_trips_every_table_of_a_recorded_trace()
    {
        using var dir = new TempDir();
        var program = LayeredProgram.Build(dir.Path, 2);
        string trace = RecordedTrace.Record(dir.Path, "layers", "full", program.Path);
        var result = TraceExporter.Export(trace, dir.File("ds"));
        using var db = AnalysisDatabase.Open(dir.File("ds"));
        using var reader = TraceReader.Open(trace);
        var events = reader.Events().ToList();

        // Row counts of every event table equal the trace's events, and the columns carry them.
        Assert.Equal((long)events.OfType<InstructionEvent>().Count(), db.Scalar("SELECT count(*) FROM instructions"));
        Assert.Equal((long)events.OfType<MemoryWriteEvent>().Count(), db.Scalar("SELECT count(*) FROM memory_writes"));
        Assert.Equal((long)events.OfType<RegionSnapshotEvent>().Count(), db.Scalar("SELECT count(*) FROM snapshots"));
        Assert.Equal((long)events.Count(e => e is RegionMapEvent or RegionUnmapEvent or RegionProtectEvent), db.Scalar("SELECT count(*) FROM regions"));
        Assert.Equal((long)events.OfType<RegisterChangeEvent>().Sum(c => System.Numerics.BitOperations.PopCount(c.Mask)) + events.OfType<KeyframeEvent>().Count() * Registers.Count,
            db.Scalar("SELECT count(*) FROM registers"));
        var instructions = events.OfType<InstructionEvent>().Select(i => $"{i.Step} {i.Pid} {i.Tid} {i.Rip:x} {Convert.ToHexString(i.Bytes)}").ToList();
        Assert.Equal(instructions, db.Rows("SELECT step, pid, tid, rip, bytes FROM instructions ORDER BY step")
            .Select(r => $"{r[0]} {r[1]} {r[2]} {(ulong)r[3]!:x} {Convert.ToHexString((byte[])r[4]!)}"));
        var writes = events.OfType<MemoryWriteEvent>().Select(w => $"{w.Step} {w.Address:x} {w.Size} {Convert.ToHexString(w.Value)} {(w.Flags & MemoryWriteFlags.Kernel) != 0}").ToList();
        Assert.Equal(writes, db.Rows("SELECT step, address, size, value, kernel FROM memory_writes")
            .Select(r => $"{r[0]} {(ulong)r[1]!:x} {r[2]} {Convert.ToHexString((byte[])r[3]!)} {r[4]}"));
        var calls = events.OfType<SyscallEntryEvent>().Select(s => $"{s.Step} {s.Name}").ToList();
        Assert.Equal(calls, db.Rows("SELECT entry_step, name FROM syscalls WHERE entry_step IS NOT NULL ORDER BY entry_step").Select(r => $"{r[0]} {r[1]}"));
        Assert.Equal(result.TraceId, db.Scalar("SELECT trace FROM traces"));
        Assert.Equal("ptrace", db.Scalar("SELECT backend FROM traces"));
        Assert.Equal(2, db.Scalar("SELECT layers FROM traces"));
        // Every table has a part file with its full schema, even when empty.
        foreach (var table in DatasetSchema.Tables)
            Assert.Equal(table.Columns.Select(c => c.Name), db.Rows($"DESCRIBE SELECT * EXCLUDE (trace) FROM {table.Name}").Select(r => (string)r[0]!));
    }
}
