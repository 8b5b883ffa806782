using System.Diagnostics;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Tui.ViewModels;

namespace Ether.Replay.Bench;

/// <summary>
/// Issue 5's targets for `ether tui` on a 10 M-instruction trace: the first screen in under 1 s and
/// every jump in under 100 ms. Measured at the view-model level (what the browser computes to show a
/// screen: rows around the cursor, registers, memory) and in one real run of `./ether tui` under tmux
/// (launch to first screen, keys to the new screen). Baseline in the same run: decoding one chunk.
/// </summary>
public static class TuiBench
{
    private const int ScreenRows = 40, Repeats = 30;

    public static int Run(string[] args)
    {
        long n = args.Length > 0 ? long.Parse(args[0]) : 10_000_000;
        string synthetic = BenchTraces.Synthetic(n);
        string layered = TuiBenchTraces.Layered(n);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; traces: {n:N0} instructions each");

        double chunk = DecodeOneChunk(synthetic);
        Console.WriteLine($"baseline: decode one chunk           {chunk,8:F2} ms (median of {Repeats})");

        var (cold, warm) = FirstScreen(synthetic);
        Console.WriteLine($"open -> first screen (view models)  {cold,8:F1} ms cold (first in this process), {warm:F1} ms warm   [target < 1000 ms]");
        bool met = cold < 1000;

        var rng = new Random(7);
        using var session = BrowserSession.Open(synthetic);
        var watch = Stopwatch.StartNew();
        session.Replay.BuildIndexAsync().GetAwaiter().GetResult();
        Console.WriteLine($"background: replay index built in {watch.Elapsed.TotalSeconds:F2} s (the first screen does not wait for it)");
        var rows = new InstructionRows(session.Replay);
        var cursor = new StepCursor(session, rows);
        var registers = new RegistersModel(session.Replay);
        var memory = new MemoryModel(session) { BytesPerLine = 16, Lines = 8 };
        // Index is built by hand here: tell the session so the jumps that wait for it run.
        session.Index.Finish();

        long Random() => 1 + (long)(rng.NextDouble() * (session.LastStep - 1));
        ulong syscallRip = FindSyscallRip(session);
        Console.WriteLine($"jumps: each = the jump + the new screen ({ScreenRows} rows, registers, memory), median / max of {Repeats} from random steps");
        met &= Jump("go to step", () => cursor.GoTo(Random()));
        met &= Jump("next execution", () => cursor.NextExecution());
        met &= Jump("previous execution", () => cursor.PreviousExecution());
        met &= Jump("next execution (rare: syscall insn)", () => { cursor.GoTo(FirstAt(session, syscallRip)); return cursor.NextExecution(); });
        met &= Jump("next syscall", () => cursor.NextSyscall());
        met &= Jump("previous syscall", () => cursor.PreviousSyscall());
        met &= Jump("who wrote [rsp] (last write)", () => memory.LastWrite(cursor, Window()));
        met &= Jump("next write of [rsp]", () => memory.NextWrite(cursor, Window()));

        MemoryWindow? Window()
        {
            memory.SetExpression("rsp");
            return memory.Read(cursor.Step, registers.At(cursor.Step), out _);
        }

        bool Jump(string what, Func<JumpResult> jump)
        {
            var times = new List<double>();
            int moved = 0;
            for (int i = 0; i < Repeats; i++)
            {
                cursor.GoTo(Random());
                Screen(cursor.Step); // the screen before the jump is already up
                var w = Stopwatch.StartNew();
                if (jump().Moved) moved++;
                Screen(cursor.Step);
                times.Add(w.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            double median = times[times.Count / 2], max = times[^1];
            Console.WriteLine($"  {what,-36} {median,8:F2} / {max,8:F2} ms  ({median / chunk,5:F1}x a chunk decode; moved {moved}/{Repeats}){(max < 100 ? "" : "  ABOVE 100 ms")}");
            return max < 100;
        }

        void Screen(long step)
        {
            for (long s = Math.Max(1, step - ScreenRows / 3); s < Math.Min(session.LastStep, step + ScreenRows); s++) _ = rows.Get(s);
            var state = registers.At(step);
            _ = memory.Read(step, state, out _);
        }

        met &= LayerJumps(layered, chunk);
        met &= RealRun(synthetic);
        Console.WriteLine($"verdict:   {(met ? "MET" : "MISSED")} (first screen < 1 s, every jump < 100 ms)");
        return 0;
    }

    private static double DecodeOneChunk(string trace)
    {
        using var reader = TraceReader.Open(trace);
        var chunk = new DecodedChunk();
        var times = new List<double>();
        for (int i = 0; i < Repeats; i++)
        {
            var w = Stopwatch.StartNew();
            reader.ReadChunk(reader.Chunks.Count / 2 + i % 4, chunk);
            times.Add(w.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>What the first screen needs: open, rows 1..40, registers after step 1.</summary>
    private static (double Cold, double Warm) FirstScreen(string trace)
    {
        double Once()
        {
            var w = Stopwatch.StartNew();
            using var session = BrowserSession.Open(trace);
            var rows = new InstructionRows(session.Replay);
            for (long s = 1; s <= ScreenRows; s++) _ = rows.Get(s);
            _ = new RegistersModel(session.Replay).At(1);
            return w.Elapsed.TotalMilliseconds;
        }
        double cold = Once();
        var warm = Enumerable.Range(0, 10).Select(_ => Once()).Order().ToList();
        return (cold, warm[warm.Count / 2]);
    }

    private static ulong FindSyscallRip(BrowserSession session)
    {
        var e = session.Replay.NextEvent(0, EventKind.SyscallEntry) ?? throw new InvalidOperationException("the synthetic trace has no system call");
        return session.Replay.StepsPage(e.Step, 1)[0].Instruction!.Rip;
    }

    private static long FirstAt(BrowserSession session, ulong rip) => session.Replay.NextExecution(rip, 0) ?? 1;

    private static bool LayerJumps(string trace, double chunk)
    {
        using var session = BrowserSession.Open(trace);
        var watch = Stopwatch.StartNew();
        session.StartLoading().GetAwaiter().GetResult();
        var analysis = session.Analysis ?? throw new InvalidOperationException($"export failed: {session.Export.Error}");
        Console.WriteLine($"layered trace: index + export + SQL tables loaded in the background in {watch.Elapsed.TotalSeconds:F1} s ({analysis.LayerChanges.Count:N0} layer changes, {analysis.Syscalls.Count:N0} system calls)");
        var rows = new InstructionRows(session.Replay) { LayerChanges = analysis.LayerChanges };
        var cursor = new StepCursor(session, rows);
        var registers = new RegistersModel(session.Replay);
        var rng = new Random(11);
        bool met = true;
        foreach (var (what, jump) in new (string, Func<JumpResult>)[] { ("next layer", cursor.NextLayer), ("previous layer", cursor.PreviousLayer) })
        {
            var times = new List<double>();
            for (int i = 0; i < Repeats; i++)
            {
                cursor.GoTo(1 + (long)(rng.NextDouble() * (session.LastStep - 1)));
                var w = Stopwatch.StartNew();
                jump();
                for (long s = Math.Max(1, cursor.Step - ScreenRows / 3); s < Math.Min(session.LastStep, cursor.Step + ScreenRows); s++) _ = rows.Get(s);
                _ = registers.At(cursor.Step);
                times.Add(w.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"  {what,-36} {times[times.Count / 2],8:F2} / {times[^1],8:F2} ms  ({times[times.Count / 2] / chunk,5:F1}x a chunk decode){(times[^1] < 100 ? "" : "  ABOVE 100 ms")}");
            met &= times[^1] < 100;
        }
        return met;
    }

    /// <summary>`./ether tui` under tmux: launch to the first screen, and keys to the screen after a jump.</summary>
    private static bool RealRun(string trace)
    {
        string? root = RepoRoot();
        if (root == null || !OnPath("tmux"))
        {
            Console.WriteLine("real run: skipped (needs tmux and the repository's ./ether)");
            return true;
        }
        Tmux(null, "-V"); // fails early when tmux is broken
        var build = Process.Start(new ProcessStartInfo(Path.Combine(root, "ether"), "--help") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        build.WaitForExit(); // builds Release if needed: not part of what is timed
        string socket = $"ether-tui-bench-{Environment.ProcessId}";
        try
        {
            var w = Stopwatch.StartNew();
            Tmux(socket, "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", $"{Path.Combine(root, "ether")} tui {trace}; sleep 30");
            double first = WaitFor(socket, s => s.Contains("Registers after step 1 ") && s.Contains("      1 "), w);
            Console.WriteLine($"real run (./ether tui under tmux, 120x40): first screen {first,6:F0} ms after launch (dotnet start-up included)   [target < 1000 ms]");
            // Right after the first screen, while the index and the export run on the same 2 cores.
            foreach (var (name, send, expect) in new (string, string[], string)[]
                     {
                         ("g 7777777 Enter", ["g", "7777777", "Enter"], "step 7,777,777/"),
                         ("s (next syscall)", ["s"], "next system call:"),
                     })
            {
                var d = Stopwatch.StartNew();
                Tmux(socket, ["send-keys", "-t", "b", .. send]);
                Console.WriteLine($"  {name,-24} -> new screen {WaitFor(socket, s => s.Contains(expect), d),6:F0} ms  (during the background index/export; first use, JIT included)");
            }
            // Jumps once the background work is done (the status bar stops showing "index N%" / "export N%").
            var loaded = Stopwatch.StartNew();
            double background = WaitFor(socket, s => !s.Contains("index ") && !s.Contains("export "), loaded, 120);
            Console.WriteLine($"  background index/export finished {background / 1000,5:F1} s later");
            var keys = new (string Name, string[] Keys, string Expect)[]
            {
                ("g 9999990 Enter", ["g", "9999990", "Enter"], "step 9,999,990/"),
                ("g 5000000 Enter", ["g", "5000000", "Enter"], "step 5,000,000/"),
                ("s (next syscall)", ["s"], "next system call:"),
                ("n (next execution)", ["n"], "next execution of"),
                ("g 123456 Enter", ["g", "123456", "Enter"], "step 123,456/"),
                ("S (previous syscall)", ["S"], "previous system call:"),
                ("p (previous execution)", ["p"], "previous execution of"),
            };
            var times = new List<double>();
            foreach (var (name, send, expect) in keys)
            {
                var j = Stopwatch.StartNew();
                Tmux(socket, ["send-keys", "-t", "b", .. send]);
                double ms = WaitFor(socket, s => s.Contains(expect), j);
                times.Add(ms);
                Console.WriteLine($"  {name,-24} -> new screen {ms,6:F0} ms");
            }
            Console.WriteLine("  (keys sent with tmux send-keys, screen polled with capture-pane: both are in these times)");
            double worst = times.Max();
            Tmux(socket, "send-keys", "-t", "b", "q");
            return first < 1000 && worst < 100;
        }
        finally
        {
            try { Tmux(socket, "kill-server"); } catch (InvalidOperationException) { }
        }
    }

    private static double WaitFor(string socket, Func<string, bool> shown, Stopwatch since, double seconds = 30)
    {
        while (since.Elapsed.TotalSeconds < seconds)
        {
            if (shown(Tmux(socket, "capture-pane", "-p", "-t", "b"))) return since.Elapsed.TotalMilliseconds;
            Thread.Sleep(5);
        }
        throw new TimeoutException($"the browser did not show the expected screen within {seconds} s");
    }

    private static string Tmux(string? socket, params string[] args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (socket != null) { psi.ArgumentList.Add("-L"); psi.ArgumentList.Add(socket); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"tmux {string.Join(' ', args)}: {p.StandardError.ReadToEnd().Trim()}");
        return output;
    }

    private static string? RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ether")) && File.Exists(Path.Combine(dir.FullName, "Ether.Replay.sln"))) return dir.FullName;
        return null;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, program)));
}
