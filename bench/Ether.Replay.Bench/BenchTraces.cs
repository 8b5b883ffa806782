using Ether.Replay.Formats.Synthetic;

namespace Ether.Replay.Bench;

/// <summary>Synthetic traces the analyzer benchmarks share, generated once and cached under /tmp
/// (a 100 M-instruction trace takes a while to write).</summary>
internal static class BenchTraces
{
    public static string Directory { get; } = Path.Combine(Path.GetTempPath(), "ether-bench-analyzer");

    /// <summary>The synthetic walk (<see cref="SyntheticTrace"/>) of <paramref name="instructions"/> steps; with
    /// <paramref name="formatVersion"/> 1, written without register prediction (the baseline of a format comparison).</summary>
    public static string Synthetic(long instructions, int threads = 1, int? formatVersion = null) =>
        Cached($"synthetic-r{SyntheticTrace.Revision}-{instructions}-t{threads}", "program", $"a synthetic trace of {instructions:N0} instructions",
            w => SyntheticTrace.Write(w, new SyntheticOptions { Instructions = instructions, Threads = threads }), formatVersion);

    /// <summary>The trace named <paramref name="name"/> in the cache, written by <paramref name="write"/>
    /// the first time (to a temporary name, so an interrupted run never leaves half a trace).</summary>
    public static string Cached(string name, string program, string what, Action<TraceWriter> write, int? formatVersion = null)
    {
        System.IO.Directory.CreateDirectory(Directory);
        // The format version is part of the name: a trace written by another version is written again.
        int version = formatVersion ?? RealTraces.FormatVersion;
        string path = Path.Combine(Directory, $"{name}-v{version}.etrace");
        if (File.Exists(path)) return path;
        Console.WriteLine($"writing {what} to {path} (cached for later runs) ...");
        string tmp = path + ".tmp";
        using (var w = TraceWriter.Create(tmp, new TraceHeader
               {
                   Backend = "synthetic", TargetPath = "/synthetic/" + program, TargetArgv = [program],
                   StartTime = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero), Host = "bench",
               }, new TraceWriterOptions { ChunkAge = TimeSpan.FromHours(1), PredictRegisters = version >= 2 }))
        {
            write(w);
            w.Close(StopReason.Exited);
        }
        File.Move(tmp, path, overwrite: true);
        return path;
    }
}
