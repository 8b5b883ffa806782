using System.IO.Compression;
using Ether.Replay.Analyzer.Export;
using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Bench;

/// <summary>
/// Issue 4's export target: ≥ 3 M instruction rows/s end to end (decode, importers, every table,
/// zstd) on a synthetic 10 M-instruction trace. Baseline in the same run: Parquet.Net writing the
/// same number of plain rows of the instructions table's shape from prepared arrays (no trace, no
/// other table), the ceiling of the library alone.
/// </summary>
public static class ExportBench
{
    public static int Run(string[] args)
    {
        long n = args.Length > 0 ? long.Parse(args[0]) : 10_000_000;
        string trace = BenchTraces.Synthetic(n);
        string output = Path.Combine(BenchTraces.Directory, "export-bench");
        if (Directory.Exists(output)) Directory.Delete(output, true);

        double baseline = PlainParquet(Path.Combine(BenchTraces.Directory, "plain.parquet"), n);

        // Decoding and importing alone (rows sealed and dropped): the part that runs on the main thread.
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        TraceExporter.Export(trace, output + "-discard", new ExportOptions { DiscardRows = true });
        double importWall = sw.Elapsed.TotalSeconds;
        double importCpu = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Directory.Delete(output + "-discard", true);

        cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        sw.Restart();
        var result = TraceExporter.Export(trace, output);
        double seconds = sw.Elapsed.TotalSeconds;
        double exportCpu = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        double rate = result.Instructions / seconds;
        long bytes = Directory.EnumerateFiles(output, "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        Console.WriteLine($"trace:     {trace} ({new FileInfo(trace).Length / 1e6:F1} MB, {result.Instructions:N0} instructions)");
        foreach (var (table, rows) in result.Rows.Where(r => r.Value > 0)) Console.WriteLine($"  {table,-18} {rows,14:N0} rows");
        Console.WriteLine($"baseline:  Parquet.Net alone, {n:N0} plain instruction rows: {baseline / 1e6:F2} M rows/s");
        Console.WriteLine($"import:    decode + importers without Parquet: {importWall:F2} s ({importCpu:F2} s CPU)");
        Console.WriteLine($"export:    {seconds:F2} s ({exportCpu:F2} s CPU on {Environment.ProcessorCount} cores), {rate / 1e6:F2} M instruction rows/s end to end " +
                          $"({rate / baseline:F2}x the baseline), dataset {bytes / 1e6:F1} MB");
        Console.WriteLine($"verdict:   {(rate >= 3e6 ? "MET" : "MISSED")} (target >= 3 M instruction rows/s)");
        return 0;
    }

    private static double PlainParquet(string path, long n)
    {
        const int group = 1 << 20;
        var step = new long[group];
        var pid = new int[group];
        var rip = new ulong[group];
        var length = new byte[group];
        var code = new byte[group * 4];
        var bytes = new ReadOnlyMemory<byte>[group];
        var layer = new int[group];
        var rng = new Random(1);
        for (int i = 0; i < group; i++)
        {
            step[i] = i + 1;
            pid[i] = 4242;
            rip[i] = 0x401000 + (ulong)rng.Next(4000) * 3;
            length[i] = 3;
            code[i * 3] = 0x48;
            code[i * 3 + 1] = (byte)rng.Next(12);
            code[i * 3 + 2] = 0xc3;
            bytes[i] = code.AsMemory(i * 3, 3);
        }
        var fields = new DataField[]
        {
            new DataField<long>("step", false), new DataField<int>("pid", false), new DataField<int>("tid", false),
            new DataField<ulong>("rip", false), new DataField<byte>("length", false), new DataField<byte[]>("bytes", false),
            new DataField<int>("layer", false),
        };
        var sw = Stopwatch.StartNew();
        using (var file = File.Create(path))
        {
            var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = CompressionLevel.Fastest };
            var writer = ParquetWriter.CreateAsync(new ParquetSchema(fields), file, options).GetAwaiter().GetResult();
            for (long done = 0; done < n; done += group)
            {
                int rows = (int)Math.Min(group, n - done);
                using var rg = writer.CreateRowGroup();
                rg.WriteAsync<long>((DataField<long>)fields[0], step.AsMemory(0, rows)).GetAwaiter().GetResult();
                rg.WriteAsync<int>((DataField<int>)fields[1], pid.AsMemory(0, rows)).GetAwaiter().GetResult();
                rg.WriteAsync<int>((DataField<int>)fields[2], pid.AsMemory(0, rows)).GetAwaiter().GetResult();
                rg.WriteAsync<ulong>((DataField<ulong>)fields[3], rip.AsMemory(0, rows)).GetAwaiter().GetResult();
                rg.WriteAsync<byte>((DataField<byte>)fields[4], length.AsMemory(0, rows)).GetAwaiter().GetResult();
                rg.WriteAsync<ReadOnlyMemory<byte>>((DataField<byte[]>)fields[5], bytes.AsMemory(0, rows)).GetAwaiter().GetResult();
                rg.WriteAsync<int>((DataField<int>)fields[6], layer.AsMemory(0, rows)).GetAwaiter().GetResult();
                rg.CompleteValidate();
            }
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        double rate = n / sw.Elapsed.TotalSeconds;
        File.Delete(path);
        return rate;
    }
}
