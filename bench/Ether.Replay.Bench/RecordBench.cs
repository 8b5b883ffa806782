using System.Globalization;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Bench;

/// <summary>
/// `bench record`: the ptrace recorder against the kernel's limit, and the size of its traces.
///
/// Speed: a static loop (bench/record/loop.S) single-stepped by a minimal C loop
/// (bench/record/cloop.c: PTRACE_SINGLESTEP + waitpid + PTRACE_GETREGS, nothing recorded), by the
/// same C loop bound to one CPU (as ether binds itself in full mode), by the same loop written in
/// C# over the recorder's ptrace layer, by `ether record` (everything recorded, transparency on as by
/// default), by `ether record` writing format version 1 (no register prediction: the writer before
/// issue 14) and by `ether record --no-transparency` (the cost of virtual time and the trap-flag
/// account, issue 11), in the same run:
/// 5 rounds of 2 M instructions each (10 M per contender), in alternating order, because the load of
/// this shared 2-core machine drifts over minutes.
/// Target: ether ≥ 0.8 of the C loop's steps/s (and no slower than format version 1).
/// Size: bytes per instruction of full traces of `/bin/ls -la /usr/bin` and `gzip -c` of a 64 KB
/// file (registers, memory writes and code included). Target ≤ 3. With --reads, each is also recorded
/// without the read check (the pages snapshotted before a program first reads them, issue 14), the
/// order alternating between workloads: what the check costs in size (and, roughly, speed) in one run.
/// Options: --iterations N (loop iterations per round, 2 instructions each; default 1000000),
/// --rounds R (default 5), --speed-only, --size-only, --reads.
/// </summary>
public static class RecordBench
{
    public static int Run(string[] args)
    {
        if (!BenchArgs.TryParse("record", args, out var o, flags: ["--speed-only", "--size-only", "--reads"], numbers: ["--iterations", "--rounds"]))
            return 2;
        long iterations = o.Number("--iterations", 1_000_000);
        int rounds = (int)o.Number("--rounds", 5);
        bool speed = !o.Has("--size-only"), size = !o.Has("--speed-only"), reads = o.Has("--reads");

        string sources = FindSources();
        string work = Directory.CreateTempSubdirectory("ether-bench-record-").FullName;
        try
        {
            int failures = 0;
            if (speed) failures += Speed(sources, work, iterations, rounds);
            if (size) failures += Size(work, reads);
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int Speed(string sources, string work, long iterations, int rounds)
    {
        string loop = Path.Combine(work, "loop");
        string cloop = Path.Combine(work, "cloop");
        Gcc("-nostdlib", "-static", "-no-pie", $"-DITERATIONS={iterations}", "-o", loop, Path.Combine(sources, "loop.S"));
        Gcc("-O2", "-o", cloop, Path.Combine(sources, "cloop.c"));
        long expected = 1 + 2 * iterations + 3;
        Console.WriteLine($"speed: static loop of {expected:N0} instructions, single-stepped {rounds} times by each contender,");
        Console.WriteLine("       in alternating order so that load changes on the shared machine hit all alike");

        var contenders = new (string Name, Func<Measured> Run)[]
        {
            ("C loop (step+wait+getregs)", () => RunCLoop(cloop, loop)),
            ("C loop bound to one CPU", () => RunCLoop(cloop, loop, bind: true)),
            ("C# loop, same work", () => RunRawCSharp(loop)),
            ("ether record (everything)", () => RunEther(loop, Path.Combine(work, "loop.etrace"), [])),
            ("ether record, format v1", () => RunEther(loop, Path.Combine(work, "loop-v1.etrace"), [], V1)),
            ("ether --no-transparency", () => RunEther(loop, Path.Combine(work, "loop.etrace"), [], transparent: false)),
        };
        const int Ether = 3, Opaque = Ether + 2;
        var totals = new Measured[contenders.Length];
        for (int i = 0; i < totals.Length; i++) totals[i] = new Measured(0, 0);
        bool exact = true;
        for (int round = 0; round < rounds; round++)
        {
            var order = Enumerable.Range(0, contenders.Length);
            if (round % 2 == 1) order = order.Reverse();
            foreach (int c in order)
            {
                var m = contenders[c].Run();
                totals[c] = new Measured(totals[c].Steps + m.Steps, totals[c].Seconds + m.Seconds);
                Console.WriteLine($"  round {round + 1}: {contenders[c].Name,-28} {m.Steps,12:N0} steps {m.Seconds,8:F1} s {m.Rate,10:N0} steps/s");
                if (c >= Ether && m.Steps != expected)
                {
                    exact = false;
                    Console.WriteLine($"  WRONG: ether recorded {m.Steps:N0} steps, expected {expected:N0}");
                }
            }
        }
        Console.WriteLine("  total:");
        for (int c = 0; c < contenders.Length; c++)
            Console.WriteLine($"    {contenders[c].Name,-28} {totals[c].Steps,12:N0} steps {totals[c].Seconds,8:F1} s {totals[c].Rate,10:N0} steps/s");
        double ratio = totals[Ether].Rate / totals[0].Rate;
        Console.WriteLine($"  ratio ether / C loop = {ratio:F3} (target >= 0.8){(ratio >= 0.8 ? "" : "  BELOW TARGET")}");
        Console.WriteLine($"  ratio ether / C loop bound to one CPU = {totals[Ether].Rate / totals[1].Rate:F3};  C# loop / C loop = {totals[2].Rate / totals[0].Rate:F3}");
        Console.WriteLine($"  ratio ether format v1 (no register prediction) / C loop = {totals[Ether + 1].Rate / totals[0].Rate:F3};  " +
            $"ether / ether format v1 = {totals[Ether].Rate / totals[Ether + 1].Rate:F3}");
        Console.WriteLine($"  transparency (virtual time, trap-flag account, rdtsc check per step): ether --no-transparency / C loop = {totals[Opaque].Rate / totals[0].Rate:F3};  "
            + $"ether / ether --no-transparency = {totals[Ether].Rate / totals[Opaque].Rate:F3}");
        return exact ? 0 : 1;
    }

    private static int Size(string work, bool reads)
    {
        string input = Path.Combine(work, "input64k.txt");
        File.WriteAllText(input, RealTraces.Text(65536));
        Console.WriteLine("size: full traces (instructions, registers, memory writes, system calls, regions, snapshots)");
        var runs = new (string Name, string Program, string[] Args)[]
        {
            ("ls -la /usr/bin", "/bin/ls", ["-la", "/usr/bin"]),
            ("gzip -c 64 KB", "/bin/gzip", ["-c", input]),
        };
        foreach (var (name, program, argv) in runs)
        {
            if (reads)
            {
                // Once each way; the order alternates between workloads (the machine's load drifts).
                bool onFirst = Array.IndexOf(runs, (name, program, argv)) % 2 == 1;
                // Chunks cut by step count only (not by age): the two traces' sizes differ by what the check adds, not by load.
                var first = RunEther(program, Path.Combine(work, "size.etrace"), argv, StepChunks, checkReads: onFirst);
                var second = RunEther(program, Path.Combine(work, "size.etrace"), argv, StepChunks, checkReads: !onFirst);
                var (on, off) = onFirst ? (first, second) : (second, first);
                Report(name + " (no read check)", off);
                Report(name, on);
                Console.WriteLine($"  {"",-18} read check: +{(on.Bytes - off.Bytes) / 1024.0:F0} KiB ({100.0 * (on.Bytes - off.Bytes) / off.Bytes:F1} %), " +
                                  $"{on.ReadSnapshots:N0} pages snapshotted at a first read, {on.ChangedSnapshots:N0} changed; steps/s with / without = {on.Rate / off.Rate:F3}");
                Console.WriteLine($"  {"",-18} snapshots by reason (raw KiB, before compression): {string.Join(", ", on.SnapshotBytes.Select(p => $"{p.Key} {p.Value / 1024.0:F0}"))}");
            }
            else
            {
                Report(name, RunEther(program, Path.Combine(work, "size.etrace"), argv));
            }
        }
        return 0;
    }

    private static void Report(string name, Measured r) =>
        Console.WriteLine($"  {name,-18} {r.Steps,12:N0} insns {r.Bytes / 1048576.0,8:F1} MiB  {r.BytesPerInstruction,6:F2} B/insn  ({r.Writes:N0} writes, {r.Rate:N0} steps/s){(r.BytesPerInstruction <= 3 ? "" : "  ABOVE TARGET 3")}");

    private sealed record Measured(long Steps, double Seconds, long Bytes = 0, long Writes = 0, long ReadSnapshots = 0, long ChangedSnapshots = 0)
    {
        public IReadOnlyDictionary<string, long> SnapshotBytes { get; init; } = new Dictionary<string, long>();
        public double Rate => Seconds > 0 ? Steps / Seconds : 0;
        public double BytesPerInstruction => Steps > 0 ? (double)Bytes / Steps : 0;
    }

    private static Measured RunCLoop(string cloop, string target, bool bind = false)
    {
        var psi = new ProcessStartInfo(cloop) { RedirectStandardOutput = true };
        if (bind) psi.ArgumentList.Add("--bind");
        psi.ArgumentList.Add(target);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        var parts = output.Split(' ');
        return new Measured(long.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The C loop's work done from C# through the recorder's own ptrace layer (launcher, sandbox,
    /// LinuxPtrace, a dedicated tracer thread), recording nothing: separates what the runtime and the
    /// launch path cost from what recording costs.
    /// </summary>
    private static Measured RunRawCSharp(string program)
    {
        var sandbox = new Sandbox(new SandboxOptions { StdoutPath = "/dev/null" });
        var target = TargetProgram.Resolve(program, []);
        long steps = 0;
        double seconds = 0;
        var tracer = new Thread(() =>
        {
            var ptrace = new LinuxPtrace();
            int pid = TargetLauncher.Launch(ptrace, sandbox, target, new SandboxOptions { StdoutPath = "/dev/null" }).ProgramPid;
            while (true) // to the exec event, passing the prologue's signals on
            {
                ptrace.WaitAny(out var status);
                if (status.Event == 4) break;
                int signal = status.Stopped && status.Event == 0 && status.StopSignal is not (5 or 0x85) ? status.StopSignal : 0;
                ptrace.ResumeToSyscall(pid, signal);
            }
            var clock = Stopwatch.StartNew();
            while (true)
            {
                ptrace.SingleStep(pid);
                ptrace.WaitAny(out var status);
                if (status.Exited || status.Signaled) break;
                ptrace.GetRegisters(pid, out _);
                steps++;
            }
            seconds = clock.Elapsed.TotalSeconds;
        }, 16 << 20);
        tracer.Start();
        tracer.Join();
        sandbox.End();
        return new Measured(steps, seconds);
    }

    /// <summary>The writer of format version 1 (no register prediction): the baseline of the current format.</summary>
    private static readonly TraceWriterOptions V1 = new() { PredictRegisters = false };

    /// <summary>The current writer with chunks cut by step count only (no 1 s age): sizes that do not depend on load.</summary>
    private static readonly TraceWriterOptions StepChunks = new() { ChunkAge = TimeSpan.FromDays(1) };

    private static Measured RunEther(string program, string output, string[] argv, TraceWriterOptions? writer = null, bool checkReads = true, bool transparent = true)
    {
        var result = TraceRecorder.Record(new PtraceRecordOptions
        {
            Program = program,
            Arguments = argv,
            OutputPath = output,
            Sandbox = new SandboxOptions { StdoutPath = "/dev/null" },
            Writer = writer,
            CheckReads = checkReads,
            Transparent = transparent,
        });
        long read = 0, changed = 0;
        var snapshotBytes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        using (var reader = Formats.Log.TraceReader.Open(output))
        {
            var chunk = new Formats.Log.DecodedChunk();
            for (int c = 0; c < reader.Chunks.Count; c++)
            {
                reader.ReadChunk(c, chunk);
                foreach (var e in chunk.SideEvents)
                {
                    if (e is not Formats.Model.RegionSnapshotEvent s) continue;
                    if (s.Reason == "read") read++; else if (s.Reason == "changed") changed++;
                    snapshotBytes[s.Reason] = snapshotBytes.GetValueOrDefault(s.Reason) + s.Bytes.Length;
                }
            }
        }
        File.Delete(output);
        return new Measured(result.Steps, result.Elapsed.TotalSeconds, result.Bytes, result.MemoryWrites, read, changed) { SnapshotBytes = snapshotBytes };
    }

    private static void Gcc(params string[] args)
    {
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"gcc {string.Join(' ', args)}: {errors}");
    }

    /// <summary>bench/record/ of the checkout this bench was built from.</summary>
    private static string FindSources()
    {
        string? candidate = BenchPaths.RepoRoot is { } root ? Path.Combine(root, "bench", "record") : null;
        if (candidate != null && File.Exists(Path.Combine(candidate, "cloop.c"))) return candidate;
        throw new InvalidOperationException("bench/record/cloop.c not found above " + AppContext.BaseDirectory + " or the current directory");
    }
}
