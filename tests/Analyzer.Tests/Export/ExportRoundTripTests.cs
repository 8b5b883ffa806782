using Ether.Replay.Formats.Instructions;

namespace Ether.Replay.Analyzer.Tests.Export;

/// <summary>
/// Export, then read every table back with DuckDB's read_parquet and compare every column with what
/// the trace says, computed independently from the reader's event-by-event enumerator.
/// </summary>
public sealed class ExportRoundTripTests
{
    private static readonly HashSet<string> Checked = new();

    private static void Check(string table, params string[] columns)
    {
        lock (Checked) foreach (var c in columns) Checked.Add($"{table}.{c}");
    }

    [Fact]
    public void Every_column_of_every_table_round_trips()
    {
        using var x = new Exported(p => AllKindsTrace.Write(p), new ExportOptions { RowGroupRows = 100, RowGroupsPerPart = 2 });
        var events = ReadEvents(x.Trace);

        Instructions(x, events);
        MemoryWrites(x, events);
        MemoryReads(x, events);
        RegistersRows(x, events);
        Syscalls(x, events);
        SideTables(x, events);
        ProcessesAndThreads(x, events);
        Traces(x, events);
        LayersAndBlocks(x);
        Files(x, events);

        var all = DatasetSchema.Tables.SelectMany(t => t.Columns.Select(c => $"{t.Name}.{c.Name}")).ToHashSet();
        all.ExceptWith(Checked);
        Assert.Empty(all);
        // Small row groups and parts: the big tables were written in several part files.
        Assert.True(Directory.GetFiles(DatasetLayout.Partition(x.Dataset, "instructions", x.Result.TraceId), "*.parquet").Length > 1);
    }

    private static List<TraceEvent> ReadEvents(string path)
    {
        using var reader = TraceReader.Open(path);
        return reader.Events().ToList();
    }

    private static string Hex(object? bytes) => bytes is byte[] b ? Convert.ToHexString(b) : bytes == null ? "null" : throw new InvalidOperationException($"not bytes: {bytes}");

    private static void Instructions(Exported x, List<TraceEvent> events)
    {
        var expected = events.OfType<InstructionEvent>()
            .Select(i => $"{i.Step} {i.Pid} {i.Tid} {i.Rip:x} {i.Bytes.Length} {Convert.ToHexString(i.Bytes)} 0").ToList();
        var actual = x.Rows("SELECT step, pid, tid, rip, length, bytes, layer, trace FROM instructions ORDER BY step")
            .Select(r => $"{r[0]} {r[1]} {r[2]} {(ulong)r[3]!:x} {r[4]} {Hex(r[5])} {r[6]}").ToList();
        Assert.Equal(expected, actual);
        Assert.All(x.Rows("SELECT DISTINCT trace FROM instructions"), r => Assert.Equal(x.Result.TraceId, r[0]));
        Check("instructions", "step", "pid", "tid", "rip", "length", "bytes", "layer");
    }

    private static void MemoryWrites(Exported x, List<TraceEvent> events)
    {
        var lastRip = new Dictionary<(int, int), ulong>();
        var expected = new List<string>();
        foreach (var e in events)
        {
            if (e is InstructionEvent i) lastRip[(i.Pid, i.Tid)] = i.Rip;
            if (e is MemoryWriteEvent m)
                expected.Add($"{m.Step} {m.Pid} {m.Tid} {(lastRip.TryGetValue((m.Pid, m.Tid), out var r) ? r.ToString("x") : "null")} {m.Address:x} {m.Size} " +
                             $"{Convert.ToHexString(m.Value)} {(m.OldValue == null ? "null" : Convert.ToHexString(m.OldValue))} " +
                             $"{(m.Flags & MemoryWriteFlags.Kernel) != 0} {(m.Flags & MemoryWriteFlags.Truncated) != 0} 0");
        }
        var actual = x.Rows("SELECT step, pid, tid, rip, address, size, value, old_value, kernel, truncated, layer FROM memory_writes")
            .Select(r => $"{r[0]} {r[1]} {r[2]} {(r[3] is ulong u ? u.ToString("x") : "null")} {(ulong)r[4]!:x} {r[5]} {Hex(r[6])} {Hex(r[7])} {r[8]} {r[9]} {r[10]}").ToList();
        Assert.Equal(expected, actual); // file order = log order
        Assert.Contains(actual, a => a.Contains(" True True ")); // a truncated kernel write is among them
        Check("memory_writes", "step", "pid", "tid", "rip", "address", "size", "value", "old_value", "kernel", "truncated", "layer");
    }

    private static void RegistersRows(Exported x, List<TraceEvent> events)
    {
        var expected = new List<string>();
        foreach (var e in events)
        {
            if (e is RegisterChangeEvent c)
                for (int slot = 0; slot < Registers.Count; slot++)
                    if ((c.Mask & (1u << slot)) != 0) expected.Add($"{c.Step} {c.Pid} {c.Tid} {Registers.Names[slot]} {c.Registers[slot]:x} False");
            if (e is KeyframeEvent k)
                for (int slot = 0; slot < Registers.Count; slot++) expected.Add($"{k.Step} {k.Pid} {k.Tid} {Registers.Names[slot]} {k.Registers[slot]:x} True");
        }
        var actual = x.Rows("SELECT step, pid, tid, register, value, keyframe FROM registers")
            .Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]} {(ulong)r[4]!:x} {r[5]}").ToList();
        Assert.Equal(expected, actual);
        Check("registers", "step", "pid", "tid", "register", "value", "keyframe");
    }

    private static void Syscalls(Exported x, List<TraceEvent> events)
    {
        var pending = new Dictionary<(int, int), SyscallEntryEvent>();
        var expected = new List<string>();
        string Row(SyscallEntryEvent? e, SyscallExitEvent? r)
        {
            var args = e?.Args ?? [];
            string A(int i) => i < args.Length ? args[i].ToString("x") : "null";
            var any = (TraceEvent?)e ?? r!;
            string decoded = r is { Decoded.Length: > 0 } ? string.Join(", ", r.Decoded) : e != null ? string.Join(", ", e.Decoded) : "";
            string errnoName = r is { Errno: 2 } ? "ENOENT" : "null";
            return $"{any.Pid} {any.Tid} {e?.Step.ToString() ?? "null"} {r?.Step.ToString() ?? "null"} {e?.Number ?? r!.Number} {e?.Name ?? r!.Name} linux-x86_64 " +
                   $"[{decoded}] [{(e == null ? "null" : string.Join(", ", e.Decoded))}] {A(0)} {A(1)} {A(2)} {A(3)} {A(4)} {A(5)} " +
                   $"{r?.Return.ToString() ?? "null"} {r?.Errno.ToString() ?? "null"} {errnoName}";
        }
        foreach (var e in events)
        {
            if (e is SyscallEntryEvent s)
            {
                if (pending.Remove((s.Pid, s.Tid), out var earlier)) expected.Add(Row(earlier, null));
                pending[(s.Pid, s.Tid)] = s;
            }
            if (e is SyscallExitEvent r)
                expected.Add(pending.Remove((r.Pid, r.Tid), out var entry) ? Row(entry, r) : Row(null, r));
            if (e is ProcessExitEvent p)
                foreach (var key in pending.Keys.Where(k => k.Item1 == p.Pid).ToList()) { expected.Add(Row(pending[key], null)); pending.Remove(key); }
        }
        expected.AddRange(pending.Values.Select(p => Row(p, null)));
        var actual = x.Rows("SELECT pid, tid, entry_step, exit_step, nr, name, abi, args, args_entry, arg0, arg1, arg2, arg3, arg4, arg5, ret, errno, errno_name FROM syscalls")
            .Select(r => $"{r[0]} {r[1]} {r[2] ?? "null"} {r[3] ?? "null"} {r[4]} {r[5]} {r[6]} [{r[7]}] [{r[8] ?? "null"}] " +
                         string.Join(" ", Enumerable.Range(9, 6).Select(i => r[i] is ulong u ? u.ToString("x") : "null")) +
                         $" {r[15] ?? "null"} {r[16] ?? "null"} {r[17] ?? "null"}").ToList();
        Assert.Equal(expected.Order(), actual.Order());
        Assert.Contains(actual, a => a.Contains(" -2 2 ENOENT"));
        Assert.Contains(actual, a => a.Contains("exit_group") && a.EndsWith("null null null"));
        // rip and layer: the syscall's thread's last instruction, layer 0 everywhere in this trace.
        Assert.All(x.Rows("SELECT layer FROM syscalls"), r => Assert.Equal(0, r[0]));
        Assert.True((long)x.Db.Scalar("SELECT count(*) FROM syscalls WHERE rip IS NOT NULL")! > 0);
        Check("syscalls", "pid", "tid", "entry_step", "exit_step", "nr", "name", "abi", "args", "args_entry", "arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "ret", "errno", "errno_name", "rip", "layer");
    }

    /// <summary>Each instruction's read operands (Iced, from the thread's registers) with the values the
    /// snapshots and the writes since show — a page counts once a snapshot showed part of it, as in the recorder.</summary>
    private static void MemoryReads(Exported x, List<TraceEvent> events)
    {
        var registers = new Dictionary<(int, int), RegisterFile>();
        var pages = new Dictionary<int, HashSet<ulong>>();
        var bytes = new Dictionary<int, Dictionary<ulong, byte>>();
        var operands = new MemoryOperands(MemoryOperands.MinimumXsaveArea);
        var ranges = new MemoryRange[MemoryOperands.MaxRanges];
        var expected = new List<string>();
        (InstructionEvent Insn, MemoryRange[] Ranges)? pending = null;
        HashSet<ulong> Pages(int pid) => pages.TryGetValue(pid, out var p) ? p : pages[pid] = new();
        Dictionary<ulong, byte> Bytes(int pid) => bytes.TryGetValue(pid, out var b) ? b : bytes[pid] = new();
        void Store(int pid, ulong address, byte[] value, long size, bool snapshot)
        {
            for (long k = 0; k < size; k++)
            {
                ulong a = address + (ulong)k;
                if (snapshot) Pages(pid).Add(a >> 12);
                else if (!Pages(pid).Contains(a >> 12)) continue;
                if (k < value.Length) Bytes(pid)[a] = value[k];
                else Bytes(pid).Remove(a);
            }
        }
        void Forget(int pid, ulong start, ulong end)
        {
            Pages(pid).RemoveWhere(p => p >= start >> 12 && p <= (end - 1) >> 12);
            foreach (var a in Bytes(pid).Keys.Where(a => a >> 12 >= start >> 12 && a >> 12 <= (end - 1) >> 12).ToList()) Bytes(pid).Remove(a);
        }
        void Flush()
        {
            if (pending is not { } p) return;
            pending = null;
            foreach (var r in p.Ranges)
            {
                var value = Enumerable.Range(0, r.Size).Select(k => Bytes(p.Insn.Pid).TryGetValue(r.Address + (ulong)k, out var b) ? (byte?)b : null).ToList();
                string hex = value.All(b => b.HasValue) ? Convert.ToHexString(value.Select(b => b!.Value).ToArray()) : "null";
                expected.Add($"{p.Insn.Step} {p.Insn.Pid} {p.Insn.Tid} {p.Insn.Rip:x} {r.Address:x} {r.Size} {hex}");
            }
        }
        foreach (var e in events)
        {
            if (!(e is RegionSnapshotEvent pre && pending is { } p && pre.Step == p.Insn.Step && pre.Pid == p.Insn.Pid)) Flush();
            switch (e)
            {
                case KeyframeEvent k: registers[(k.Pid, k.Tid)] = k.Registers; break;
                case RegisterChangeEvent c: registers[(c.Pid, c.Tid)] = c.Registers; break;
                case InstructionEvent i:
                {
                    var decoder = Iced.Intel.Decoder.Create(64, new Iced.Intel.ByteArrayCodeReader(i.Bytes));
                    decoder.IP = i.Rip;
                    decoder.Decode(out var insn);
                    if (insn.IsInvalid || insn.Length != i.Bytes.Length || !operands.MayRead(insn)) break;
                    int n = operands.ComputeReads(insn, registers.GetValueOrDefault((i.Pid, i.Tid)), ranges);
                    pending = (i, ranges[..Math.Max(n, 0)]);
                    break;
                }
                case MemoryWriteEvent w: Store(w.Pid, w.Address, w.Value, w.Size, snapshot: false); break;
                case RegionSnapshotEvent snap: Store(snap.Pid, snap.Address, snap.Bytes, snap.Bytes.Length, snapshot: true); break;
                case RegionMapEvent m: Forget(m.Pid, m.Start, m.End); break;
                case RegionUnmapEvent u: Forget(u.Pid, u.Start, u.End); break;
                case ExecEvent or ProcessExitEvent: pages.Remove(e.Pid); bytes.Remove(e.Pid); break;
                case ProcessStartEvent { How: "fork" or "vfork" or "clone" } ps:
                    pages[ps.Pid] = new HashSet<ulong>(Pages(ps.ParentPid));
                    bytes[ps.Pid] = new Dictionary<ulong, byte>(Bytes(ps.ParentPid));
                    break;
                case ProcessStartEvent: pages.Remove(e.Pid); bytes.Remove(e.Pid); break;
            }
        }
        Flush();
        var actual = x.Rows("SELECT step, pid, tid, rip, address, size, value FROM memory_reads")
            .Select(r => $"{r[0]} {r[1]} {r[2]} {(ulong)r[3]!:x} {(ulong)r[4]!:x} {r[5]} {Hex(r[6])}").ToList();
        Assert.Equal(expected, actual); // file order = log order
        Assert.True(actual.Count > 50, $"only {actual.Count} reads"); // (values: MemoryReadTests, the recorder's read oracle)
        Check("memory_reads", "step", "pid", "tid", "rip", "address", "size", "value");
    }

    private static void SideTables(Exported x, List<TraceEvent> events)
    {
        static string Prot(RegionProtection p) =>
            $"{((p & RegionProtection.Read) != 0 ? 'r' : '-')}{((p & RegionProtection.Write) != 0 ? 'w' : '-')}{((p & RegionProtection.Execute) != 0 ? 'x' : '-')}{((p & RegionProtection.Shared) != 0 ? 's' : 'p')}";
        var regions = events.Select(e => e switch
        {
            RegionMapEvent m => $"{m.Step} {m.Pid} {m.Tid} map {m.Start:x} {m.End:x} {m.End - m.Start:x} {Prot(m.Protection)} {m.FileOffset:x} [{m.Name}]",
            RegionUnmapEvent u => $"{u.Step} {u.Pid} {u.Tid} unmap {u.Start:x} {u.End:x} {u.End - u.Start:x} null null [null]",
            RegionProtectEvent p => $"{p.Step} {p.Pid} {p.Tid} protect {p.Start:x} {p.End:x} {p.End - p.Start:x} {Prot(p.Protection)} null [null]",
            _ => null,
        }).OfType<string>().ToList();
        Assert.Equal(regions, x.Rows("SELECT step, pid, tid, event, start, \"end\", size, protection, file_offset, name FROM regions")
            .Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]} {(ulong)r[4]!:x} {(ulong)r[5]!:x} {(ulong)r[6]!:x} {r[7] ?? "null"} {(r[8] is ulong o ? o.ToString("x") : "null")} [{r[9] ?? "null"}]").ToList());
        Check("regions", "step", "pid", "tid", "event", "start", "end", "size", "protection", "file_offset", "name");

        Assert.Equal(events.OfType<RegionSnapshotEvent>().Select(s => $"{s.Step} {s.Pid} {s.Tid} {s.Address:x} {s.Bytes.Length} {s.Reason} {Convert.ToHexString(s.Bytes)}").ToList(),
            x.Rows("SELECT step, pid, tid, address, size, reason, bytes FROM snapshots").Select(r => $"{r[0]} {r[1]} {r[2]} {(ulong)r[3]!:x} {r[4]} {r[5]} {Hex(r[6])}").ToList());
        Check("snapshots", "step", "pid", "tid", "address", "size", "reason", "bytes");

        Assert.Equal(["0 10 10 /bin/allkinds allkinds 'it'\\''s' 'a b'"],
            x.Rows("SELECT step, pid, tid, path, argv FROM execs").Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]} {r[4]}").ToList());
        Check("execs", "step", "pid", "tid", "path", "argv");

        Assert.Equal(events.OfType<SignalEvent>().Select(s => $"{s.Step} {s.Pid} {s.Tid} {s.Signo} {s.Name} {s.Code} {s.Address:x} {s.Disposition}").ToList(),
            x.Rows("SELECT step, pid, tid, signo, name, code, address, disposition FROM signals").Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]} {r[4]} {r[5]} {(ulong)r[6]!:x} {r[7]}").ToList());
        Check("signals", "step", "pid", "tid", "signo", "name", "code", "address", "disposition");

        Assert.Equal(events.OfType<AnnotationEvent>().Select(a => $"{a.Step} {a.Pid} {a.Tid} {a.Key} {a.Text}").ToList(),
            x.Rows("SELECT step, pid, tid, key, text FROM annotations").Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]} {r[4]}").ToList());
        Check("annotations", "step", "pid", "tid", "key", "text");
    }

    private static void ProcessesAndThreads(Exported x, List<TraceEvent> events)
    {
        var rows = x.Rows("SELECT pid, parent_pid, how, start_step, exit_step, exit_code, signal, core_dumped, path, argv, threads, instructions, syscalls FROM processes ORDER BY pid")
            .Select(r => string.Join(" ", r.Select(v => v?.ToString() ?? "null"))).ToList();
        long Instr(int pid) => events.OfType<InstructionEvent>().Count(i => i.Pid == pid);
        long Calls(int pid) => events.OfType<SyscallEntryEvent>().Count(i => i.Pid == pid);
        var exit20 = events.OfType<ProcessExitEvent>().Single(p => p.Pid == 20);
        var start20 = events.OfType<ProcessStartEvent>().Single(p => p.Pid == 20);
        Assert.Equal(
        [
            $"10 1 spawn 0 null null null null /bin/allkinds allkinds 'it'\\''s' 'a b' 2 {Instr(10)} {Calls(10)}",
            $"20 10 fork {start20.Step} {exit20.Step} 3 0 False null null 1 {Instr(20)} {Calls(20)}",
        ], rows);
        Check("processes", "pid", "parent_pid", "how", "start_step", "exit_step", "exit_code", "signal", "core_dumped", "path", "argv", "threads", "instructions", "syscalls");

        var threads = x.Rows("SELECT pid, tid, parent_tid, start_step, exit_step, exit_code, first_step, last_step, instructions FROM threads ORDER BY pid, tid")
            .Select(r => string.Join(" ", r.Select(v => v?.ToString() ?? "null"))).ToList();
        string T(int pid, int tid)
        {
            var mine = events.OfType<InstructionEvent>().Where(i => i.Pid == pid && i.Tid == tid).ToList();
            var start = events.OfType<ThreadStartEvent>().FirstOrDefault(s => s.Pid == pid && s.Tid == tid);
            var exit = events.OfType<ThreadExitEvent>().FirstOrDefault(s => s.Pid == pid && s.Tid == tid);
            var pexit = events.OfType<ProcessExitEvent>().FirstOrDefault(s => s.Pid == pid);
            return $"{pid} {tid} {start?.ParentTid.ToString() ?? "null"} {start?.Step.ToString() ?? "null"} {exit?.Step.ToString() ?? pexit?.Step.ToString() ?? "null"} " +
                   $"{exit?.ExitCode.ToString() ?? "null"} {mine.First().Step} {mine.Last().Step} {mine.Count}";
        }
        Assert.Equal([T(10, 10), T(10, 11), T(20, 20)], threads);
        Check("threads", "pid", "tid", "parent_tid", "start_step", "exit_step", "exit_code", "first_step", "last_step", "instructions");
    }

    private static void Traces(Exported x, List<TraceEvent> events)
    {
        var r = x.Rows("SELECT * FROM traces").Single();
        var names = DatasetSchema.Find("traces")!.Columns.Select(c => c.Name).ToList();
        object? V(string column) => r[names.IndexOf(column) + 1];
        Assert.Equal(x.Result.TraceId, r[0]);
        Assert.Equal(Path.GetFullPath(x.Trace), V("file"));
        Assert.Equal(new FileInfo(x.Trace).Length, V("file_bytes"));
        Assert.Equal(2, V("format_version"));
        Assert.Equal("0.1.0", V("tool_version"));
        Assert.Equal("fake", V("backend"));
        Assert.Equal("{\"mode\":\"full\"}", V("backend_parameters"));
        Assert.Equal("/bin/allkinds", V("target_path"));
        Assert.Equal("/bin/allkinds", V("target_argv"));
        Assert.Equal("", V("target_sha256"));
        Assert.Equal("x86_64", V("architecture"));
        Assert.Equal("test", V("host"));
        Assert.Equal(new DateTime(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc), Utc(V("start_time")));
        Assert.NotNull(V("end_time"));
        Assert.Equal(true, V("closed_cleanly"));
        Assert.Equal("exited", V("stop_reason"));
        Assert.Equal("", V("stop_detail"));
        Assert.Null(V("damage"));
        Assert.Equal(events.Max(e => e.Step), V("last_step"));
        Assert.Equal((long)events.OfType<InstructionEvent>().Count(), V("instructions"));
        Assert.Equal((long)events.OfType<RegisterChangeEvent>().Count(), V("register_changes"));
        Assert.Equal((long)events.OfType<MemoryWriteEvent>().Count(), V("memory_writes"));
        Assert.Equal(x.Db.Scalar("SELECT count(*) FROM syscalls"), V("syscalls"));
        Assert.Equal((long)events.Count(e => e is RegionMapEvent or RegionUnmapEvent or RegionProtectEvent), V("region_events"));
        Assert.Equal((long)events.OfType<RegionSnapshotEvent>().Count(), V("snapshots"));
        Assert.Equal(2, V("processes"));
        Assert.Equal(3, V("threads"));
        Assert.Equal((long)events.OfType<SignalEvent>().Count(), V("signals"));
        Assert.Equal(0, V("layers"));
        Assert.NotNull(V("exported_at"));
        Assert.Equal($"0.1.0 r{ExporterRevision.Number}", V("exporter_version"));
        Check("traces", names.ToArray());
    }

    /// <summary>DuckDB hands TIMESTAMP WITH TIME ZONE back as a DateTime in the session's zone.</summary>
    private static DateTime Utc(object? value)
    {
        var t = (DateTime)value!;
        return t.Kind == DateTimeKind.Utc ? t : t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);
    }

    private static void Files(Exported x, List<TraceEvent> events)
    {
        var expected = events.OfType<FileEvent>().Select(f =>
            $"{f.Step} {f.Pid} {f.Tid} {f.Op} {f.Call} {f.Fd} {f.Device} {f.Inode} {f.Path} {f.Offset} {f.Length} {f.Size} {(f.Bytes.Length > 0 ? Convert.ToHexString(f.Bytes) : "null")}").ToList();
        Assert.NotEmpty(expected);
        var actual = x.Rows("SELECT step, pid, tid, op, call, fd, device, inode, path, \"offset\", length, size, content FROM files ORDER BY step")
            .Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]} {r[4]} {r[5]} {r[6]} {r[7]} {r[8]} {r[9]} {r[10]} {r[11]} {Hex(r[12])}").ToList();
        Assert.Equal(expected, actual);
        Check("files", "step", "pid", "tid", "op", "call", "fd", "device", "inode", "path", "offset", "length", "size", "content");
    }

    private static void LayersAndBlocks(Exported x)
    {
        // Nothing in this trace executes written memory: one layer 0 per process.
        var layers = x.Rows("SELECT pid, image, layer, first_step, last_step, entry_address, entry_tid, region_start, region_end, region_name, main_image, " +
                            "bytes_written, writer_rip_min, writer_rip_max, writer_first_step, writer_last_step, kernel_bytes, instructions FROM unpack_layers ORDER BY pid");
        Assert.Equal([10, 20], layers.Select(l => (int)l[0]!));
        Assert.All(layers, l => Assert.Equal(0, l[2]));
        var first10 = x.Rows("SELECT step, rip, tid FROM instructions WHERE pid = 10 ORDER BY step LIMIT 1").Single();
        Assert.Equal(first10[0], layers[0][3]);
        Assert.Equal(first10[1], layers[0][5]);
        Assert.Equal(first10[2], layers[0][6]);
        Assert.Equal(0x400000UL, layers[0][7]);
        Assert.Equal(0x402000UL, layers[0][8]);
        Assert.Equal("/bin/allkinds", layers[0][9]);
        Assert.Equal(true, layers[0][10]);
        Assert.Equal(0L, layers[0][11]);
        Assert.Null(layers[0][12]);
        Assert.Null(layers[0][14]);
        Assert.Equal(x.Db.Scalar("SELECT count(*) FROM instructions WHERE pid = 10"), layers[0][17]);
        Assert.Equal(x.Db.Scalar("SELECT max(step) FROM instructions WHERE pid = 10"), layers[0][4]);
        Check("unpack_layers", "pid", "image", "layer", "first_step", "last_step", "entry_address", "entry_tid", "region_start", "region_end", "region_name",
            "main_image", "bytes_written", "writer_rip_min", "writer_rip_max", "writer_first_step", "writer_last_step", "kernel_bytes", "instructions");
        // Loaded code only: no fix-ups, no file chain, no original entry point to find.
        Assert.All(x.Rows("SELECT fixup_bytes, arrival, chain, oep FROM unpack_layers"), l => Assert.Equal([0L, "loaded", null, false], l));
        Check("unpack_layers", "fixup_bytes", "arrival", "chain", "oep");
        Assert.Equal(0L, x.Db.Scalar("SELECT count(*) FROM oep_candidates"));
        Assert.Equal(["pid", "image", "layer", "address", "step", "tid", "evidence", "rank", "chosen", "detail"],
            x.Rows("DESCRIBE SELECT * EXCLUDE (trace) FROM oep_candidates").Select(r => (string)r[0]!));
        Check("oep_candidates", "pid", "image", "layer", "address", "step", "tid", "evidence", "rank", "chosen", "detail"); // values: UnpackLayerExportTests

        Assert.Equal(0L, x.Db.Scalar("SELECT count(*) FROM layer_transitions"));
        // Empty tables still have typed columns.
        Assert.Equal(["pid", "tid", "image", "step", "from_layer", "to_layer", "from_rip", "to_rip"],
            x.Rows("DESCRIBE SELECT * EXCLUDE (trace) FROM layer_transitions").Select(r => (string)r[0]!));
        Check("layer_transitions", "pid", "tid", "image", "step", "from_layer", "to_layer", "from_rip", "to_rip");

        // Random code at random addresses: blocks of one or two instructions, each counted.
        Assert.True((long)x.Db.Scalar("SELECT sum(executions)::BIGINT FROM basic_blocks")! > 0);
        Assert.All(x.Rows("SELECT start, \"end\", bytes, first_step FROM basic_blocks"), b =>
            Assert.Equal((long)((ulong)b[1]! - (ulong)b[0]!), ((byte[])b[2]!).Length));
        Check("basic_blocks", "pid", "start", "end", "instructions", "layer", "executions", "first_step", "bytes");
    }
}
