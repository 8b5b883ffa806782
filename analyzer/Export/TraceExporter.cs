using System.Diagnostics;
using System.Text.Json;
using Ether.Replay.Analyzer.Disassembly;
using Ether.Replay.Analyzer.Export.Importers;
using Ether.Replay.Formats.Text;

namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// Exports one .etrace file into a Parquet dataset, chunk by chunk: memory stays bounded by one
/// decoded chunk, one row group per table and the per-thread / per-page state of the importers,
/// whatever the trace's length. A cut or damaged trace exports its readable prefix and says so in
/// <see cref="ExportResult.Warning"/>.
/// </summary>
public static class TraceExporter
{
    public static ExportResult Export(string tracePath, string dataset, ExportOptions? options = null,
        Action<ExportProgress>? progress = null, CancellationToken cancel = default)
    {
        using var reader = TraceReader.Open(tracePath);
        return Export(reader, tracePath, dataset, options, progress, cancel);
    }

    /// <summary>Exports a trace the caller already opened (to check it, or to find its cache) from
    /// <paramref name="tracePath"/>; the reader is not disposed.</summary>
    public static ExportResult Export(TraceReader reader, string tracePath, string dataset, ExportOptions? options = null,
        Action<ExportProgress>? progress = null, CancellationToken cancel = default)
    {
        options ??= new ExportOptions();
        var clock = Stopwatch.StartNew();
        var header = reader.Header;
        string id = TraceId.For(tracePath, header);
        var tables = new ExportTables();
        var staging = new List<(ExportTable Table, string Staging, string Final)>();
        try
        {
            foreach (var t in tables.All)
            {
                string dir = DatasetLayout.Staging(dataset, t.TableName, id);
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                t.Begin(dir, options);
                staging.Add((t, dir, DatasetLayout.Partition(dataset, t.TableName, id)));
            }

            var importer = new ChunkImporter(tables, header.TargetPath, Disassembler.BitnessOf(header.Architecture), Replay.StepReads.XsaveSizeOf(header));
            string? warning = reader.Summary.Damage is { } damage
                ? $"the trace is cut or damaged ({damage}); analysing the readable prefix"
                : null;
            var chunk = new DecodedChunk();
            int chunks = reader.Chunks.Count;
            for (int i = 0; i < chunks; i++)
            {
                cancel.ThrowIfCancellationRequested();
                try
                {
                    reader.ReadChunk(i, chunk);
                }
                catch (TraceFormatException e)
                {
                    warning = $"{e.Message}; analysing the steps before it";
                    break;
                }
                importer.Import(chunk);
                progress?.Invoke(new ExportProgress(i + 1, chunks, chunk.Info.LastStep, reader.Summary.LastStep));
            }
            var layers = importer.Finish();
            WriteTraceRow(tables, tracePath, reader, importer, layers.Count == 0 ? 0 : layers.Max(l => l.Layer), warning);

            foreach (var (table, _, _) in staging) table.Close();
            foreach (var (_, from, to) in staging)
            {
                if (Directory.Exists(to)) Directory.Delete(to, recursive: true);
                Directory.Move(from, to);
            }
            return new ExportResult
            {
                TraceId = id,
                Dataset = dataset,
                Instructions = importer.Instructions,
                LastStep = importer.LastStep,
                Rows = tables.All.ToDictionary(t => t.TableName, t => t.RowsWritten),
                HighestLayer = layers.Count == 0 ? 0 : layers.Max(l => l.Layer),
                Warning = warning,
                Elapsed = clock.Elapsed,
            };
        }
        catch
        {
            tables.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (var (_, dir, _) in staging)
                try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    private static void WriteTraceRow(ExportTables all, string path, TraceReader reader, ChunkImporter importer, int highestLayer, string? warning)
    {
        var t = all.Traces;
        var h = reader.Header;
        var s = reader.Summary;
        t.File.Add(Path.GetFullPath(path));
        t.FileBytes.Add(reader.FileSize);
        t.FormatVersion.Add(h.FormatVersion);
        t.ToolVersion.Add(h.ToolVersion);
        t.Backend.Add(h.Backend);
        t.BackendParameters.Add(JsonSerializer.Serialize(h.BackendParameters.ToDictionary(p => p.Key, p => p.Value)));
        t.TargetPath.Add(h.TargetPath);
        t.TargetArgv.Add(ShellWords.Join(h.TargetArgv));
        t.TargetSha256.Add(h.TargetSha256);
        t.Architecture.Add(h.Architecture);
        t.Host.Add(h.Host);
        t.StartTime.Add(h.StartTime);
        t.EndTime.Add(s.EndTime);
        t.ClosedCleanly.Add(s.ClosedCleanly);
        t.StopReason.Add(StopReasonText.Name(s.StopReason));
        t.StopDetail.Add(s.StopDetail);
        t.Damage.Add(warning);
        t.LastStep.Add(importer.LastStep);
        t.Instructions.Add(importer.Instructions);
        t.RegisterChanges.Add(importer.RegisterChanges);
        t.MemoryWrites.Add(all.MemoryWrites.Rows);
        t.Syscalls.Add(importer.SyscallRows);
        t.RegionEvents.Add(all.Regions.Rows);
        t.Snapshots.Add(all.Snapshots.Rows);
        t.Processes.Add(importer.Catalog.ProcessCount);
        t.Threads.Add(importer.Catalog.Threads.Count(x => x.Tid != 0));
        t.Signals.Add(all.Signals.Rows);
        t.Layers.Add(highestLayer);
        t.ExportedAt.Add(DateTimeOffset.UtcNow);
        t.ExporterVersion.Add($"{typeof(TraceExporter).Assembly.GetName().Version?.ToString(3)} r{ExporterRevision.Number}");
        t.EndRow();
    }
}
