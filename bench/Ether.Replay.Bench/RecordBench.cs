using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Bench;

/// <summary>
/// `bench record`: the ptrace recorder against the kernel's limit, and the size of its traces.
///
/// Speed: a static 10 M-instruction loop (bench/record/loop.S) single-stepped by a minimal C loop
/// (bench/record/cloop.c: PTRACE_SINGLESTEP + waitpid + PTRACE_GETREGS, nothing recorded) and by
/// `ether record` (everything recorded), in the same run; C, ether, C again, so a change in the
/// machine's load shows. Target: ether ≥ 0.8 of the C loop's steps/s.
/// Size: bytes per instruction of full traces of `/bin/ls -la /usr/bin` and `gzip -c` of a 64 KB
/// file (registers, memory writes and code included). Target ≤ 3.
/// Options: --iterations N (loop iterations, 2 instructions each; default 5000000),
/// --speed-only, --size-only.
/// </summary>
public static class RecordBench
{
    public static int Run(string[] args)
    {
        long iterations = 5_000_000;
        bool speed = true, size = true;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--iterations": iterations = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--speed-only": size = false; break;
                case "--size-only": speed = false; break;
                default: Console.Error.WriteLine($"bench record: unknown option {args[i]}"); return 2;
            }
        }

        string sources = FindSources();
        string work = Directory.CreateTempSubdirectory("ether-bench-record-").FullName;
        try
        {
            int failures = 0;
            if (speed) failures += Speed(sources, work, iterations);
            if (size) failures += Size(work);
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int Speed(string sources, string work, long iterations)
    {
        string loop = Path.Combine(work, "loop");
        string cloop = Path.Combine(work, "cloop");
        Gcc("-nostdlib", "-static", "-no-pie", $"-DITERATIONS={iterations}", "-o", loop, Path.Combine(sources, "loop.S"));
        Gcc("-O2", "-o", cloop, Path.Combine(sources, "cloop.c"));
        long expected = 1 + 2 * iterations + 3;
        Console.WriteLine($"speed: static loop of {expected:N0} instructions, single-stepped");

        var c1 = RunCLoop(cloop, loop);
        Console.WriteLine($"  C loop (step+wait+getregs)   {c1.Steps,12:N0} steps {c1.Seconds,8:F1} s {c1.Rate,10:N0} steps/s");
        var e = RunEther(loop, Path.Combine(work, "loop.etrace"));
        Console.WriteLine($"  ether record (everything)    {e.Steps,12:N0} steps {e.Seconds,8:F1} s {e.Rate,10:N0} steps/s  ({e.BytesPerInstruction:F3} B/insn)");
        var c2 = RunCLoop(cloop, loop);
        Console.WriteLine($"  C loop again                 {c2.Steps,12:N0} steps {c2.Seconds,8:F1} s {c2.Rate,10:N0} steps/s");

        double baseline = (c1.Rate + c2.Rate) / 2;
        double ratio = e.Rate / baseline;
        Console.WriteLine($"  ratio ether / C = {ratio:F3} (target >= 0.8){(ratio >= 0.8 ? "" : "  BELOW TARGET")}");
        if (e.Steps != expected) Console.WriteLine($"  WRONG: ether recorded {e.Steps:N0} steps, expected {expected:N0}");
        return e.Steps == expected ? 0 : 1;
    }

    private static int Size(string work)
    {
        string input = Path.Combine(work, "input64k.txt");
        File.WriteAllText(input, Text64K());
        Console.WriteLine("size: full traces (instructions, registers, memory writes, system calls, regions, snapshots)");
        var runs = new (string Name, string Program, string[] Args)[]
        {
            ("ls -la /usr/bin", "/bin/ls", ["-la", "/usr/bin"]),
            ("gzip -c 64 KB", "/bin/gzip", ["-c", input]),
        };
        foreach (var (name, program, argv) in runs)
        {
            var r = RunEther(program, Path.Combine(work, "size.etrace"), argv);
            Console.WriteLine($"  {name,-18} {r.Steps,12:N0} insns {r.Bytes / 1048576.0,8:F1} MiB  {r.BytesPerInstruction,6:F2} B/insn  ({r.Writes:N0} writes, {r.Rate:N0} steps/s){(r.BytesPerInstruction <= 3 ? "" : "  ABOVE TARGET 3")}");
        }
        return 0;
    }

    private sealed record Measured(long Steps, double Seconds, long Bytes = 0, long Writes = 0)
    {
        public double Rate => Seconds > 0 ? Steps / Seconds : 0;
        public double BytesPerInstruction => Steps > 0 ? (double)Bytes / Steps : 0;
    }

    private static Measured RunCLoop(string cloop, string target)
    {
        var psi = new ProcessStartInfo(cloop) { RedirectStandardOutput = true };
        psi.ArgumentList.Add(target);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        var parts = output.Split(' ');
        return new Measured(long.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static Measured RunEther(string program, string output, params string[] argv)
    {
        var result = PtraceRecorder.Record(new RecordOptions
        {
            Program = program,
            Arguments = argv,
            OutputPath = output,
            Sandbox = new SandboxOptions { StdoutPath = "/dev/null" },
        });
        if (Directory.Exists(result.WorkingDirectory)) Directory.Delete(result.WorkingDirectory, recursive: true);
        File.Delete(output);
        return new Measured(result.Steps, result.Elapsed.TotalSeconds, result.Bytes, result.MemoryWrites);
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
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "record");
            if (File.Exists(Path.Combine(candidate, "cloop.c"))) return candidate;
        }
        throw new InvalidOperationException("bench/record/cloop.c not found above " + AppContext.BaseDirectory);
    }

    /// <summary>64 KB of word soup (deterministic): compressible like text, not trivially.</summary>
    private static string Text64K()
    {
        string[] words = ["ether", "replay", "trace", "step", "region", "snapshot", "keyframe", "unpack", "layer", "syscall", "write", "memory", "the", "a", "of", "and"];
        var random = new Random(1);
        var text = new StringBuilder(70_000);
        while (text.Length < 65536) text.Append(words[random.Next(words.Length)]).Append(' ');
        return text.ToString(0, 65536);
    }
}
