namespace Ether.Replay.Bench;

/// <summary>
/// `dotnet run -c Release --project bench/Ether.Replay.Bench -- NAME [options]`: each benchmark
/// prints its numbers next to a baseline measured in the same run, and the ratio the target is about.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, (string What, Func<string[], int> Run)> Benchmarks = new()
    {
        ["format"] = ("encode/decode throughput and bytes per instruction of .etrace on a synthetic trace", FormatBench.Run),
        ["export"] = ("export a 10 M-instruction synthetic trace to Parquet: rows/s vs Parquet.Net alone", ExportBench.Run),
        ["record"] = ("ptrace recorder steps/s against a C single-step loop, and trace bytes per instruction of real programs", RecordBench.Run),
        ["unpack"] = ("issue 12 (f): a 30 M-instruction key-derivation crypter natively vs --mode unpack vs --mode full (unpack >= 100x full, <= 3x native)", UnpackBench.Run),
        ["tui"] = ("ether tui on a 10 M-instruction trace: open to first screen, jump latencies, one real run under tmux", TuiBench.Run),
        ["query"] = ("syscalls -c, top-100 hot blocks, per-layer summary on a 100 M-instruction dataset (each < 2 s)", QueryBench.Run),
        ["seek"] = ("random `at` seeks in a 10 M-instruction trace (< 50 ms)", SeekBench.Run),
        ["tui-floor"] = ("(used by `tui`) the smallest Terminal.Gui program, showing each key it gets", TuiFloorApp.Run),
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Benchmarks.TryGetValue(args[0], out var bench))
        {
            Console.Error.WriteLine("usage: bench/run NAME [options]");
            foreach (var (name, (what, _)) in Benchmarks) Console.Error.WriteLine($"  {name,-8} {what}");
            return 2;
        }
        return bench.Run(args[1..]);
    }
}
