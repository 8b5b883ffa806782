using Ether.Replay.Analyzer.Replay;

namespace Ether.Replay.Bench;

/// <summary>
/// Issue 4's replay target: `at` any step of a 10 M-instruction trace in under 50 ms — registers of
/// every thread, the instruction, 64 bytes of memory around rsp and who last wrote it — after the
/// per-trace index is built once. Baseline in the same run: decoding one chunk, the floor of any seek.
/// </summary>
public static class SeekBench
{
    public static int Run(string[] args)
    {
        // seek [N] [SEEKS] [--format-version V]: V = 1 writes the trace without register prediction (a baseline).
        int? version = null;
        int at = Array.IndexOf(args, "--format-version");
        if (at >= 0)
        {
            version = int.Parse(args[at + 1]);
            args = [.. args[..at], .. args[(at + 2)..]];
        }
        long n = args.Length > 0 ? long.Parse(args[0]) : 10_000_000;
        int seeks = args.Length > 1 ? int.Parse(args[1]) : 200;
        string trace = BenchTraces.Synthetic(n, formatVersion: version);

        var sw = Stopwatch.StartNew();
        using var session = ReplaySession.Open(trace);
        double open = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        session.BuildIndex();
        double index = sw.Elapsed.TotalMilliseconds;

        // Baseline: one chunk decode (what a seek cannot avoid).
        using var reader = TraceReader.Open(trace);
        var chunk = new DecodedChunk();
        var decode = new List<double>();
        var rng = new Random(9);
        for (int i = 0; i < 40; i++)
        {
            int c = rng.Next(reader.Chunks.Count);
            sw.Restart();
            reader.ReadChunk(c, chunk);
            decode.Add(sw.Elapsed.TotalMilliseconds);
        }

        var times = new List<double>();
        long known = 0;
        for (int i = 0; i < seeks + 10; i++)
        {
            long step = rng.NextInt64(1, session.LastStep + 1);
            sw.Restart();
            var state = session.StateAt(step);
            var t = state.Current!;
            var memory = session.ReadMemory(step, t.Pid, t.Registers.Rsp - 32, 64);
            var writer = session.LastWriteBefore(t.Registers.Rsp - 8, step, t.Pid);
            double ms = sw.Elapsed.TotalMilliseconds;
            if (i >= 10) times.Add(ms); // the first seeks warm the JIT
            known += memory.KnownCount + (writer != null ? 1 : 0);
        }
        times.Sort();
        decode.Sort();
        double p50 = times[times.Count / 2], p99 = times[(int)(times.Count * 0.99)], max = times[^1];
        double floor = decode[decode.Count / 2];
        Console.WriteLine($"trace: {trace} ({session.LastStep:N0} steps, {reader.Chunks.Count} chunks)");
        Console.WriteLine($"open {open:F0} ms, index build (once per session) {index:F0} ms");
        Console.WriteLine($"baseline: one chunk decode p50 {floor:F1} ms");
        Console.WriteLine($"seek (state + 64 bytes at rsp + last writer), {times.Count} random steps: p50 {p50:F1} ms ({p50 / floor:F1}x a chunk decode), p99 {p99:F1} ms, max {max:F1} ms; {known:N0} known bytes read");
        Console.WriteLine($"verdict: {(p99 < 50 ? "MET" : "MISSED")} (p99 < 50 ms)");
        return 0;
    }
}
