using Ether.Replay.Formats.Synthetic;
using MessagePack;
using Spectre.Console;

namespace Ether.Replay.Bench;

/// <summary>
/// Issue 2's targets: ≥ 20 M instruction events/s encode on one core and ≤ 2 bytes per instruction
/// (rip + code bytes) on a synthetic 10 M-instruction trace. The instruction stream is captured into
/// flat arrays first (untimed) so only encoding is timed. Baseline in the same run: the same
/// instructions as one MessagePack array per instruction, what a naive log would do.
/// Issue 14's target: ≤ 3 bytes per instruction (registers, writes and code included) on real traces
/// of hashing and compression tools (<see cref="RealTraces"/>), decoded no slower. Baseline in the
/// same run: the same events re-written as format version 1 (no register prediction), decoded by today's reader and by
/// the reader users had before version 2 (main 97cc4a6, built from git history: <see cref="BaselineReaderBuild"/>).
/// Usage: format [N] [--real-only | --synthetic-only] [--columns] [--only NAME,...] (real traces whose names start so)
/// [--rounds R] (decode speeds are the median of R passes, the readers alternating, after untimed warm-up passes
/// (<see cref="WarmUpSeconds"/>), in instructions per second of the decoding thread's CPU time) [--chunk-length K] (both
/// versions re-chunked to chunks K times as long as recorded: what a recorder with a K times longer chunk age would write;
/// see <see cref="TraceCopy"/>) [--baseline-reader REV | none] (the older reader that also decodes the v1 copies; default
/// 97cc4a6, the last commit before format version 2; none: skip it)
/// </summary>
public static class FormatBench
{
    private sealed class Captured
    {
        public int Count;
        public ulong[] Rip = [];
        public int[] CodeOffset = [];
        public byte[] CodeLength = [];
        public byte[] Code = [];
    }

    /// <summary>The reader users had before format version 2: main's last commit before it.</summary>
    public const string DefaultBaselineReader = "97cc4a6";

    public static int Run(string[] args)
    {
        if (!BenchArgs.TryParse("format", args, out var o, flags: ["--real-only", "--synthetic-only", "--columns"], numbers: ["--rounds", "--chunk-length"],
                texts: ["--only", "--baseline-reader"], bareNumber: true))
            return 2;
        long n = o.Bare(10_000_000);
        bool synthetic = !o.Has("--real-only"), real = !o.Has("--synthetic-only"), columns = o.Has("--columns");
        string[] only = o.Text("--only")?.Split(',') ?? [];
        int rounds = (int)Math.Clamp(o.Number("--rounds", 5), 1, 1000);
        int chunkLength = (int)Math.Clamp(o.Number("--chunk-length", 1), 1, 1000);
        // Written to a file or a pipe, Spectre.Console lays tables out 80 columns wide and wraps the real-trace table's 11
        // columns into unreadable cells: there, lay them out as wide as COLUMNS says, else 250.
        if (Console.IsOutputRedirected)
            AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int width) && width > 0 ? width : 250;
        string dir = Path.Combine(Path.GetTempPath(), $"ether-bench-format-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            int result = 0;
            if (synthetic) result |= Synthetic(dir, n, rounds);
            if (real) result |= Real(dir, columns, only, rounds, chunkLength, o.Text("--baseline-reader") ?? DefaultBaselineReader);
            return result;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int Synthetic(string dir, long n, int rounds)
    {
        Console.WriteLine($"capturing a synthetic walk of {n:N0} instructions ...");
        var plain = new SyntheticOptions { Instructions = n, Registers = false, MemoryWrites = false, SyscallEvery = 0 };
        var captured = Capture(Path.Combine(dir, "capture.etrace"), plain);

        Encode(Path.Combine(dir, "warm.etrace"), captured, 500_000); // JIT warm-up
        NaiveEncode(captured, 500_000);

        var (naiveRate, naiveBytes) = NaiveEncode(captured, captured.Count);
        var (rate, bytes) = Encode(Path.Combine(dir, "plain.etrace"), captured, captured.Count);
        double decode = Decode(Path.Combine(dir, "plain.etrace"), captured.Count);

        // The full walk (registers, writes, syscalls), as version 2 and as version 1 (no register prediction),
        // written and decoded alternately so that load changes hit both alike.
        var full = new (string Label, string Path, bool Predict, double Rate, double Decode)[]
        {
            (".etrace v2: + registers, writes, syscalls (incl. generator)", Path.Combine(dir, "full.etrace"), true, 0, 0),
            (".etrace v1 (no register prediction): same events", Path.Combine(dir, "full-v1.etrace"), false, 0, 0),
        };
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < full.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                WriteSynthetic(full[i].Path, new SyntheticOptions { Instructions = n }, full[i].Predict);
                full[i].Rate = Math.Max(full[i].Rate, n / sw.Elapsed.TotalSeconds);
            }
        var synthetic = DecodeMedians([() => Decode(full[1].Path, -1), () => Decode(full[0].Path, -1)], rounds);
        (full[1].Decode, full[0].Decode) = (synthetic[0], synthetic[1]);

        var table = new Table().AddColumns("encoding", "encode M insn/s", "decode M insn/s", "file MB", "bytes/insn");
        table.AddRow("baseline: msgpack array per insn", $"{naiveRate / 1e6:F1}", "-", $"{naiveBytes / 1e6:F1}", $"{(double)naiveBytes / n:F2}");
        table.AddRow(".etrace: rip + code bytes", $"{rate / 1e6:F1}", $"{decode / 1e6:F1}", $"{bytes / 1e6:F1}", $"{(double)bytes / n:F2}");
        foreach (var f in full)
        {
            long fullBytes = new FileInfo(f.Path).Length;
            table.AddRow(f.Label, $"{f.Rate / 1e6:F1}", $"{f.Decode / 1e6:F1}", $"{fullBytes / 1e6:F1}", $"{(double)fullBytes / n:F2}");
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"full walk, v2 against v1: size {(double)new FileInfo(full[0].Path).Length / new FileInfo(full[1].Path).Length:F2}x, " +
            $"encode {full[0].Rate / full[1].Rate:F2}x, decode {full[0].Decode / full[1].Decode:F2}x");

        // Bounded memory: write and read back a trace ten times larger; the peak working set must not follow its size.
        long big = n * 10;
        var bigPath = Path.Combine(dir, "big.etrace");
        long before = Environment.WorkingSet;
        var peak = new PeakWorkingSet();
        WriteSynthetic(bigPath, new SyntheticOptions { Instructions = big });
        double bigDecode = Decode(bigPath, -1);
        long bigBytes = new FileInfo(bigPath).Length;
        long peakBytes = peak.Stop();
        File.Delete(bigPath);
        Console.WriteLine($"bounded memory: wrote and read {big:N0} instructions ({bigBytes / 1e6:F0} MB file, {bigDecode / 1e6:F1} M insn/s decode); " +
            $"working set {before / 1e6:F0} MB before, peak {peakBytes / 1e6:F0} MB during");

        double bpi = (double)bytes / n;
        Console.WriteLine($"encode: {rate / 1e6:F1} M insn/s on one core (target >= 20): {rate / naiveRate:F2}x the baseline's speed");
        Console.WriteLine($"size:   {bpi:F2} bytes/insn (target <= 2): {(double)naiveBytes / bytes:F1}x smaller than the baseline");
        Console.WriteLine($"verdict: encode {(rate >= 20e6 ? "MET" : "MISSED")}, size {(bpi <= 2 ? "MET" : "MISSED")}");
        return 0;
    }

    /// <summary>Real traces: size with and without register prediction, where the bytes go, decode speed of both.</summary>
    private static int Real(string dir, bool columns, string[] only, int rounds, int chunkLength, string baselineRevision)
    {
        Console.WriteLine();
        Console.WriteLine("real traces: Debian hash and compression tools (and ls) recorded by the ptrace recorder (every instruction, register,");
        Console.WriteLine("memory write, system call); baseline: the same events re-written as format version 1 (no register prediction)");
        if (chunkLength > 1) Console.WriteLine($"both versions re-chunked: chunks {chunkLength} times as long as recorded (at most {new TraceWriterOptions().ChunkSteps:N0} steps)");
        var baseline = baselineRevision == "none" ? null
            : BaselineReader.TryOpen(BenchPaths.RepoRoot, baselineRevision, Path.Combine(BenchTraces.Directory, "baseline-readers"), Console.WriteLine);
        string old = baseline?.Commit[..7] ?? "";
        double callNs = baseline?.CallNanoseconds() ?? 0, callShare = 0;
        if (baseline != null)
            Console.WriteLine($"baseline reader: {baselineRevision} ({baseline.Commit[..12]}, {baseline.Location}) also decodes the version-1 copies: " +
                $"column \"decode v1 {old}\" and \"v2/v1 {old}\" = version 2 by today's reader over version 1 by {old}'s");
        var table = new Table().AddColumns("trace", "insns", "v1 B/insn", "v2 B/insn", "v1/v2", "predicted exactly",
            "decode v1 M insn/s", "decode v2 M insn/s", "v2/v1");
        if (baseline != null) table.AddColumns($"decode v1 {old} M insn/s", $"v2/v1 {old}");
        double worst = 0, slowest = double.MaxValue, slowestOld = double.MaxValue;
        string slowestOldName = "";
        var reports = new List<(string Name, TraceSizeReport V1, TraceSizeReport V2)>();
        foreach (var w in RealTraces.All)
        {
            if (only.Length > 0 && !only.Any(o => w.Name.StartsWith(o, StringComparison.Ordinal))) continue;
            if (RealTraces.Get(w) is not { } path) continue;
            if (chunkLength > 1)
            {
                string longer = Path.Combine(dir, "v2.etrace");
                TraceCopy.Copy(path, longer, new TraceWriterOptions(), chunkLength);
                path = longer;
            }
            string v1 = Path.Combine(dir, "v1.etrace");
            TraceCopy.Copy(path, v1, new TraceWriterOptions { PredictRegisters = false });
            using var r2 = TraceReader.Open(path);
            using var r1 = TraceReader.Open(v1);
            long insns = r2.Summary.Count(EventKind.Instruction);
            var s2 = TraceSizes.Measure(r2);
            var s1 = TraceSizes.Measure(r1);
            double b2 = (double)r2.FileSize / insns, b1 = (double)r1.FileSize / insns;
            string v2 = path;
            var passes = new List<Func<double>> { () => Decode(v1, insns), () => Decode(v2, insns) };
            if (baseline != null)
            {
                // The older reader must read the copy as today's does before its speed means anything.
                var (i0, r0) = baseline.Decode(v1);
                if (i0 != insns || r0 != s1.RegisterChanges)
                    throw new InvalidOperationException($"{old}'s reader decoded {i0} instructions and {r0} register changes of {w.Name}'s v1 copy, today's {insns} and {s1.RegisterChanges}");
                passes.Add(() => DecodeBaseline(baseline, v1, insns));
            }
            var speeds = DecodeMedians([.. passes], rounds);
            double d1 = speeds[0], d2 = speeds[1];
            worst = Math.Max(worst, b2);
            slowest = Math.Min(slowest, d2 / d1);
            var row = new List<string> { w.Name, $"{insns:N0}", $"{b1:F2}", $"{b2:F2}", $"{b1 / b2:F1}x",
                $"{100.0 * s2.ExactlyPredictedRegisterChanges / Math.Max(1, s2.RegisterChanges):F1}% of changes",
                $"{d1 / 1e6:F1}", $"{d2 / 1e6:F1}", $"{d2 / d1:F2}" };
            if (baseline != null)
            {
                double d0 = speeds[2];
                row.AddRange([$"{d0 / 1e6:F1}", $"{d2 / d0:F2}"]);
                if (d2 / d0 < slowestOld) (slowestOld, slowestOldName) = (d2 / d0, w.Name);
                callShare = Math.Max(callShare, BaselineReader.CallsPerPass(r1.Chunks.Count) * callNs * 1e-9 / (insns / d0));
            }
            table.AddRow([.. row]);
            reports.Add((w.Name, s1, s2));
            File.Delete(v1);
        }
        AnsiConsole.Write(table);
        if (columns)
            foreach (var (name, s1, s2) in reports) WriteColumns(name, s1, s2);
        if (reports.Count == 0)
        {
            Console.WriteLine("verdict: no real trace could be recorded");
            return 1;
        }
        Console.WriteLine($"size: worst {worst:F2} bytes/insn (target <= 3); decode: slowest v2/v1 ratio {slowest:F2}");
        if (baseline != null)
        {
            Console.WriteLine($"decode against the reader before version 2: slowest v2/v1 {old} ratio {slowestOld:F2} ({slowestOldName}); " +
                "v2 today / v1 read by " + old + "'s reader, the speed users had");
            Console.WriteLine($"baseline reader's reflection: {callNs:F0} ns a call, 3 calls a chunk: at most {100 * callShare:F3} % of a pass");
        }
        Console.WriteLine($"verdict: size {(worst <= 3 ? "MET" : "MISSED")}");
        return 0;
    }

    /// <summary>Bytes per instruction of every column and side-event kind, version 1 beside version 2.</summary>
    private static void WriteColumns(string name, TraceSizeReport v1, TraceSizeReport v2)
    {
        double n = Math.Max(1, v2.Instructions);
        var table = new Table().Title(name).AddColumns("column", "v1 raw B/insn", "v1 zstd B/insn", "v2 raw B/insn", "v2 zstd B/insn");
        for (int i = 0; i < v2.Columns.Count; i++)
            table.AddRow(v2.Columns[i].Name, $"{v1.Columns[i].RawBytes / n:F3}", $"{v1.Columns[i].CompressedBytes / n:F3}",
                $"{v2.Columns[i].RawBytes / n:F3}", $"{v2.Columns[i].CompressedBytes / n:F3}");
        foreach (var k in v2.SideKinds)
            table.AddRow("  side: " + k.Name, "", "", $"{k.RawBytes / n:F3}", $"{k.CompressedBytes / n:F3}");
        table.AddRow("file", "", $"{v1.FileBytes / n:F3}", "", $"{v2.FileBytes / n:F3}");
        AnsiConsole.Write(table);
    }

    /// <summary>Samples the process working set every 50 ms (GC heap + native buffers + mapped pages).</summary>
    private sealed class PeakWorkingSet
    {
        private long _peak;
        private volatile bool _stop;
        private readonly Thread _thread;

        public PeakWorkingSet()
        {
            _thread = new Thread(() => { while (!_stop) { _peak = Math.Max(_peak, Environment.WorkingSet); Thread.Sleep(50); } }) { IsBackground = true };
            _thread.Start();
        }

        public long Stop()
        {
            _stop = true;
            _thread.Join();
            return Math.Max(_peak, Environment.WorkingSet);
        }
    }

    private static void WriteSynthetic(string path, SyntheticOptions o, bool predict = true)
    {
        using var w = TraceWriter.Create(path, new TraceHeader { Backend = "synthetic", StartTime = DateTimeOffset.UtcNow }, Options with { PredictRegisters = predict });
        SyntheticTrace.Write(w, o);
        w.Close(StopReason.Exited);
    }

    private static readonly TraceWriterOptions Options = new() { ChunkAge = TimeSpan.FromHours(1) };

    private static Captured Capture(string path, SyntheticOptions o)
    {
        WriteSynthetic(path, o);
        var c = new Captured { Rip = new ulong[o.Instructions], CodeOffset = new int[o.Instructions], CodeLength = new byte[o.Instructions], Code = new byte[o.Instructions * 15] };
        using var r = TraceReader.Open(path);
        var chunk = new DecodedChunk();
        int at = 0;
        for (int i = 0; i < r.Chunks.Count; i++)
        {
            r.ReadChunk(i, chunk);
            for (int k = 0; k < chunk.InstructionCount; k++, c.Count++)
            {
                c.Rip[c.Count] = chunk.InstructionRip[k];
                var bytes = chunk.InstructionBytes(k);
                bytes.CopyTo(c.Code.AsSpan(at));
                c.CodeOffset[c.Count] = at;
                c.CodeLength[c.Count] = (byte)bytes.Length;
                at += bytes.Length;
            }
        }
        return c;
    }

    private static (double Rate, long Bytes) Encode(string path, Captured c, int count)
    {
        var sw = Stopwatch.StartNew();
        using (var w = TraceWriter.Create(path, new TraceHeader { Backend = "synthetic" }, Options))
        {
            var rips = c.Rip;
            var code = c.Code;
            for (int i = 0; i < count; i++)
                w.Instruction(4242, 4242, rips[i], code.AsSpan(c.CodeOffset[i], c.CodeLength[i]));
            w.Close(StopReason.Exited);
        }
        return (count / sw.Elapsed.TotalSeconds, new FileInfo(path).Length);
    }

    private static (double Rate, long Bytes) NaiveEncode(Captured c, int count)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        long bytes = 0;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            var w = new MessagePackWriter(buffer);
            w.WriteArrayHeader(4);
            w.Write((long)i + 1); w.Write(4242); w.Write(c.Rip[i]); w.Write(c.Code.AsSpan(c.CodeOffset[i], c.CodeLength[i]));
            w.Flush();
            if (buffer.WrittenCount > 1 << 19) { bytes += buffer.WrittenCount; buffer.Clear(); }
        }
        bytes += buffer.WrittenCount;
        return (count / sw.Elapsed.TotalSeconds, bytes);
    }

    /// <summary>Untimed warm-up before the timed passes: each decoder runs until it has spent this much of its thread's CPU
    /// time (at least one pass, at most <see cref="MaxWarmUpPasses"/>). Tiered JIT recompiles a method after 30 calls (twice
    /// with PGO's instrumented tier), and code called once per pass or per chunk gets there only after many passes of a short
    /// trace: after one warm-up pass, cksum's (~15 ms) medians were bimodal; the lead's harness needed 30+.</summary>
    private const double WarmUpSeconds = 0.5;
    private const int MaxWarmUpPasses = 100;

    /// <summary>Decode speeds of traces of the same events, each pass a function (returning instructions per second): the
    /// median of <paramref name="rounds"/> passes each, alternating so that load changes hit all alike, after the warm-up
    /// (<see cref="WarmUpSeconds"/>: JIT tiers, page cache).</summary>
    private static double[] DecodeMedians(Func<double>[] passes, int rounds)
    {
        var spent = new double[passes.Length];
        for (int pass = 0; pass < MaxWarmUpPasses; pass++)
        {
            bool ran = false;
            for (int d = 0; d < passes.Length; d++)
            {
                if (pass > 0 && spent[d] >= WarmUpSeconds) continue;
                double start = ThreadCpuTime.Seconds();
                passes[d]();
                spent[d] += ThreadCpuTime.Seconds() - start;
                ran = true;
            }
            if (!ran) break;
        }
        var speeds = passes.Select(_ => new double[rounds]).ToArray();
        for (int i = 0; i < rounds; i++)
            for (int d = 0; d < passes.Length; d++)
                speeds[d][i] = passes[d]();
        return speeds.Select(s => { Array.Sort(s); return s[rounds / 2]; }).ToArray();
    }

    /// <summary><see cref="Decode"/> by the older reader: the same pass (a fresh reader, every chunk into one DecodedChunk), timed alike.</summary>
    private static double DecodeBaseline(BaselineReader reader, string path, long expected)
    {
        double start = ThreadCpuTime.Seconds();
        long seen = reader.Decode(path).Instructions;
        if (seen != expected) throw new InvalidOperationException($"the baseline reader decoded {seen} instructions, wrote {expected}");
        return seen / (ThreadCpuTime.Seconds() - start);
    }

    /// <summary>Instructions decoded per second of the decoding thread's CPU time (<see cref="ThreadCpuTime"/>).</summary>
    private static double Decode(string path, long expected)
    {
        double start = ThreadCpuTime.Seconds();
        long seen = 0;
        using (var r = TraceReader.Open(path))
        {
            var chunk = new DecodedChunk();
            for (int i = 0; i < r.Chunks.Count; i++) seen += r.ReadChunk(i, chunk).InstructionCount;
        }
        if (expected >= 0 && seen != expected) throw new InvalidOperationException($"decoded {seen} instructions, wrote {expected}");
        return seen / (ThreadCpuTime.Seconds() - start);
    }
}
