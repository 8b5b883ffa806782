using Ether.Replay.Analyzer.Tests.Support;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Bench;

/// <summary>
/// `bench unpack`: issue 12's test (f) — a crypter stub that derives its key with tens of millions
/// of instructions before it decrypts a static program into place (KdfCrypter, the tests' own
/// packer) — run natively and recorded in `--mode full`, `--mode unpack`, `--mode layers` (unpack
/// mode + the payload single-stepped) and `--mode syscalls` (the recorder's fixed cost: launch,
/// sandbox, exec snapshots), in the same run, alternating order.
/// Targets: unpack ≥ 100x faster than full, ≤ 3x native. Recording times are the recorder's own
/// (in process, from launch to the trace closed); native is the program's wall time from spawn.
/// Two probes measure the W^X machinery: flips.c (fault rate, unpack and layers mode) and
/// callout_probe.c (written code calling out: what each exit from and re-entry into written code
/// costs in layers mode, against full mode).
/// Full mode of the whole stub takes tens of minutes here: it is measured on the same stub with
/// 100 k and 200 k rounds and extrapolated (instructions per round and steps/s both measured).
/// Options: --rounds R (native/syscalls/unpack rounds, default 5), --kdf-rounds N (default
/// 3,000,000 ≈ 30 M instructions), --no-full (skip the full-mode runs).
/// </summary>
public static class UnpackBench
{
    public static int Run(string[] args)
    {
        if (!BenchArgs.TryParse("unpack", args, out var o, flags: ["--no-full"], numbers: ["--rounds", "--kdf-rounds"]))
            return 2;
        int rounds = (int)o.Number("--rounds", 5);
        long kdfRounds = o.Number("--kdf-rounds", 3_000_000);
        bool full = !o.Has("--no-full");

        string work = Directory.CreateTempSubdirectory("ether-bench-unpack-").FullName;
        try
        {
            var original = UpxStylePacker.BuildStaticOriginal(work, 300);
            string packed = KdfCrypter.Pack(work, original, "kdf-packed", kdfRounds);
            Console.WriteLine($"unpack: KdfCrypter stub ({kdfRounds:N0} key-derivation rounds) around a static program, entry 0x{original.Entry:x}");

            var contenders = new (string Name, Func<(double Seconds, RecordingResult? Result)> Run)[]
            {
                ("native", () => (Native(packed), null)),
                ("ether --mode syscalls", () => Record(packed, RecordingModes.Syscalls, work)),
                ("ether --mode unpack", () => Record(packed, RecordingModes.Unpack, work)),
                ("ether --mode layers", () => Record(packed, RecordingModes.Layers, work)),
            };
            // One unmeasured run each: JIT and page cache warm for all alike.
            foreach (var c in contenders) c.Run();
            var times = contenders.Select(_ => new List<double>()).ToArray();
            var last = new RecordingResult?[contenders.Length];
            for (int round = 0; round < rounds; round++)
            {
                var order = Enumerable.Range(0, contenders.Length);
                if (round % 2 == 1) order = order.Reverse();
                foreach (int c in order)
                {
                    var (seconds, result) = contenders[c].Run();
                    times[c].Add(seconds);
                    last[c] = result;
                    Console.WriteLine($"  round {round + 1}: {contenders[c].Name,-22} {seconds * 1000,9:F1} ms{Steps(result)}");
                }
            }
            // Medians: on this shared machine a round now and then waits seconds for a CPU.
            double native = Median(times[0]), syscalls = Median(times[1]), unpackSeconds = Median(times[2]), layersSeconds = Median(times[3]);
            var unpack = last[2]!;
            var layers = last[3]!;
            Console.WriteLine("  median:");
            Console.WriteLine($"    native                 {native * 1000,9:F1} ms");
            Console.WriteLine($"    ether --mode syscalls  {syscalls * 1000,9:F1} ms   (the recorder's fixed cost: launch, sandbox, exec snapshots)");
            Console.WriteLine($"    ether --mode unpack    {unpackSeconds * 1000,9:F1} ms");
            foreach (var (key, value) in unpack.BackendDetails) Console.WriteLine($"      {key}: {value}");
            long faults = unpack.Instructions;
            Console.WriteLine($"      {faults:N0} stepped moments in {unpackSeconds:F3} s = {faults / unpackSeconds:N0} faults/s");
            double vsNative = unpackSeconds / native;
            Console.WriteLine($"  ratio unpack / native = {vsNative:F2} (target <= 3){(vsNative <= 3 ? "" : "  ABOVE TARGET")}");
            Console.WriteLine($"  ratio (unpack - syscalls) / native = {(unpackSeconds - syscalls) / native:F2} (what W^X tracking adds to the fixed cost)");
            Console.WriteLine($"    ether --mode layers    {layersSeconds * 1000,9:F1} ms   ({layers.Instructions:N0} instructions stepped: the payload's, plus the moments)");
            foreach (var (key, value) in layers.BackendDetails) Console.WriteLine($"      {key}: {value}");
            Console.WriteLine($"  ratio layers / native = {layersSeconds / native:F2}, layers / unpack = {layersSeconds / unpackSeconds:F2}");

            FlipRate(work, rounds, RecordingModes.Unpack);
            FlipRate(work, rounds, RecordingModes.Layers);
            CallOutRate(work, rounds);

            if (full)
            {
                // --mode full of the whole stub takes tens of minutes on this shared machine: it is
                // measured on the same stub with 100 k and 200 k rounds (instructions per round and
                // steps/s, measured) and extrapolated to the real key derivation.
                const long Small = 100_000;
                var (t1, r1) = Record(KdfCrypter.Pack(work, original, "kdf-small1", Small), RecordingModes.Full, work);
                var (t2, r2) = Record(KdfCrypter.Pack(work, original, "kdf-small2", 2 * Small), RecordingModes.Full, work);
                Console.WriteLine($"    ether --mode full, {Small:N0} rounds  {t1 * 1000,9:F1} ms{Steps(r1)}");
                Console.WriteLine($"    ether --mode full, {2 * Small:N0} rounds  {t2 * 1000,9:F1} ms{Steps(r2)}");
                double perRound = (double)(r2!.Instructions - r1!.Instructions) / Small;
                double total = r2.Instructions + (kdfRounds - 2 * Small) * perRound;
                double rate = r2.Instructions / t2;
                double fullSeconds = total / rate;
                Console.WriteLine($"  the stub runs {perRound:F2} instructions per round: {total:N0} instructions in all{(total >= 20e6 ? " (>= 20 M)" : "  FEWER THAN 20 M")}");
                Console.WriteLine($"  --mode full at the measured {rate:N0} steps/s: {fullSeconds:F1} s for the whole stub (extrapolated)");
                double speedup = fullSeconds / unpackSeconds;
                Console.WriteLine($"  ratio full / unpack = {speedup:N0} (target >= 100){(speedup >= 100 ? "" : "  BELOW TARGET")}");
                Console.WriteLine($"  ratio full / layers = {fullSeconds / layersSeconds:N0} (the payload's instructions in both)");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>bench/unpack/flips.c: 1,000 RWX pages written and called twice = 4,000 W^X faults; the recorder's cost per fault
    /// (in layers mode each call also steps the `ret` and closes the page again when it returns).</summary>
    private static void FlipRate(string work, int rounds, string mode)
    {
        const int Pages = 1000, FlipRounds = 2;
        string program = Compile(work, "flips", ["bench", "unpack", "flips.c"], $"-DPAGES={Pages}", $"-DROUNDS={FlipRounds}");
        Console.WriteLine($"flips, --mode {mode}: {Pages:N0} RWX pages written and called {FlipRounds} times (a write fault and an execute fault per page and round)");
        var (n, u, last) = NativeAndRecorded(program, mode, work, rounds);
        long faults = last.Instructions;
        Console.WriteLine($"  native {n * 1000:F1} ms, --mode {mode} {u * 1000:F1} ms (medians of {rounds}); {faults:N0} stepped instructions");
        foreach (var (key, value) in last.BackendDetails) Console.WriteLine($"    {key}: {value}");
        Console.WriteLine($"  {faults / u:N0} faults/s overall; {(u - n) / faults * 1e6:F0} µs per fault (recorded time - native time, per fault)");
    }

    /// <summary>
    /// tests/…/layersmode/callout_probe.c: a written loop that calls back into the program 2,000
    /// times. In layers mode each call is an exit from written code (its pages closed: a remote
    /// mprotect) and each return an entry (a fault, pages opened: another): the price of a payload
    /// calling libc, against full mode (which steps the callee too) and native.
    /// </summary>
    private static void CallOutRate(string work, int rounds)
    {
        const int Calls = 2000;
        string program = Compile(work, "callout", ["tests", "Analyzer.Tests", "Programs", "layersmode", "callout_probe.c"], $"-DROUNDS={Calls}");
        Console.WriteLine($"call-outs: written code calling back into the program {Calls:N0} times");
        var (n, l, last) = NativeAndRecorded(program, RecordingModes.Layers, work, rounds);
        var (full, fullResult) = Record(program, RecordingModes.Full, work);
        Console.WriteLine($"  native {n * 1000:F1} ms, --mode layers {l * 1000:F1} ms (medians of {rounds}){Steps(last)}");
        foreach (var (key, value) in last.BackendDetails) Console.WriteLine($"    {key}: {value}");
        Console.WriteLine($"  --mode full {full * 1000:F1} ms (one run){Steps(fullResult)}");
        Console.WriteLine($"  {(l - n) / Calls * 1e6:F0} µs per call out and back in layers mode; ratio full / layers = {full / l:F1}");
    }

    /// <summary>Builds a probe of the repository (gcc -O1) into the work directory.</summary>
    private static string Compile(string work, string name, string[] source, params string[] defines)
    {
        string program = Path.Combine(work, name);
        string path = Path.Combine([BenchPaths.RepoRoot ?? throw new InvalidOperationException("run from the repository"), .. source]);
        using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O1", .. defines, "-o", program, path]))!;
        gcc.WaitForExit();
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc {Path.GetFileName(path)} failed");
        return program;
    }

    /// <summary>Medians of alternating native and recorded runs (after an unmeasured native run), and the last recording's result.</summary>
    private static (double Native, double Recorded, RecordingResult Last) NativeAndRecorded(string program, string mode, string work, int rounds)
    {
        var native = new List<double>();
        var recorded = new List<double>();
        RecordingResult? last = null;
        Native(program);
        for (int round = 0; round < rounds; round++)
        {
            native.Add(Native(program));
            var (seconds, result) = Record(program, mode, work);
            recorded.Add(seconds);
            last = result;
        }
        return (Median(native), Median(recorded), last!);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Steps(RecordingResult? r) =>
        r == null ? "" : $"  {r.Steps,12:N0} steps, {r.Instructions,12:N0} instructions, {r.Bytes / 1024.0,9:F1} KiB";

    private static double Native(string program)
    {
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        stderr.Wait();
        p.WaitForExit();
        return clock.Elapsed.TotalSeconds;
    }

    private static (double, RecordingResult?) Record(string program, string mode, string work)
    {
        string output = Path.Combine(work, mode + ".etrace");
        var result = TraceRecorder.Record(new PtraceRecordOptions
        {
            Program = program,
            Mode = mode,
            OutputPath = output,
            Sandbox = new SandboxOptions { StdoutPath = "/dev/null", StderrPath = "/dev/null" },
        });
        File.Delete(output);
        return (result.Elapsed.TotalSeconds, result);
    }
}
