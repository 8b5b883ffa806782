using System.Text.Json;
using Ether.Replay.Analyzer.Export;

namespace Ether.Replay.Analyzer.Query;

/// <summary>
/// What a command's TARGET names: a dataset folder as is, or an .etrace file exported on the fly to a
/// cache next to it (<c>file.etrace.parquet/</c>, or a folder under the temp dir when the trace's
/// folder is not writable). The cache is rebuilt when the trace's size, modification time or header
/// hash changes, or when it was written by another exporter revision (<see cref="ExporterRevision"/>:
/// the revision number and the schema hash).
/// </summary>
public static class DatasetTarget
{
    private const string StampFile = ".ether-cache.json";

    private sealed record Stamp(long Size, long ModifiedTicks, string TraceId, string Exporter, string? Warning);

    /// <summary>The dataset folder for <paramref name="target"/>. <paramref name="warning"/> is set when
    /// the trace is cut or damaged (the dataset then holds its readable prefix). <paramref name="options"/>
    /// and <paramref name="cancel"/> go to the export when one is needed (the browser exports on one
    /// low-priority thread, without background writes, so that its screen stays responsive).</summary>
    public static string Resolve(string target, Action<ExportProgress>? progress, out string? warning,
        ExportOptions? options = null, CancellationToken cancel = default)
    {
        warning = null;
        if (Directory.Exists(target))
        {
            if (!DatasetLayout.IsDataset(target))
                throw new InvalidDataException($"{target}: not a dataset folder (no traces/ table inside); give a dataset written by `ether export` or an .etrace file");
            return target;
        }
        if (!File.Exists(target)) throw new FileNotFoundException($"{target}: no such file or directory", target);
        return Cached(target, progress, out warning, options, cancel);
    }

    private static string Cached(string trace, Action<ExportProgress>? progress, out string? warning, ExportOptions? options, CancellationToken cancel)
    {
        var info = new FileInfo(trace);
        using var reader = TraceReader.Open(trace); // rejects non-traces early; the export reads the same
        string id = TraceId.For(trace, reader.Header);
        var wanted = new Stamp(info.Length, info.LastWriteTimeUtc.Ticks, id, ExporterRevision.Stamp, null);

        foreach (string dir in Candidates(trace))
        {
            var stamp = ReadStamp(dir);
            if (stamp != null && stamp with { Warning = null } == wanted)
            {
                warning = stamp.Warning;
                return dir;
            }
        }
        string? failure = null;
        foreach (string dir in Candidates(trace))
        {
            // Build beside the cache and swap it in, so another `ether` reading the old cache meanwhile
            // never sees a half-written one.
            string building = $"{dir}.building-{Environment.ProcessId}";
            try
            {
                if (File.Exists(dir))
                {
                    failure = $"{dir} exists and is not a dataset folder";
                    continue;
                }
                if (!TryCreate(building, out failure)) continue; // a read-only sample store: try the next place
                var result = TraceExporter.Export(reader, trace, building, options, progress, cancel);
                File.WriteAllText(Path.Combine(building, StampFile), JsonSerializer.Serialize(wanted with { Warning = result.Warning }));
                if (Directory.Exists(dir))
                {
                    string old = $"{dir}.old-{Environment.ProcessId}";
                    Directory.Move(dir, old);
                    Directory.Delete(old, recursive: true);
                }
                Directory.Move(building, dir);
                warning = result.Warning;
                return dir;
            }
            finally
            {
                try { if (Directory.Exists(building)) Directory.Delete(building, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
        throw new UnauthorizedAccessException($"no writable place for the dataset cache of {trace} ({failure})");
    }

    private static bool TryCreate(string directory, out string? failure)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            Directory.CreateDirectory(directory);
            failure = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failure = e.Message.ReplaceLineEndings(" ");
            return false;
        }
    }

    /// <summary>Next to the trace first, then a per-trace folder in the temp dir.</summary>
    public static IEnumerable<string> Candidates(string trace)
    {
        string full = Path.GetFullPath(trace);
        yield return full + ".parquet";
        string key = Convert.ToHexString(System.IO.Hashing.XxHash3.Hash(System.Text.Encoding.UTF8.GetBytes(full))).ToLowerInvariant();
        yield return Path.Combine(Path.GetTempPath(), "ether-cache", $"{Path.GetFileName(full)}-{key}.parquet");
    }

    private static Stamp? ReadStamp(string dir)
    {
        try
        {
            string path = Path.Combine(dir, StampFile);
            return File.Exists(path) ? JsonSerializer.Deserialize<Stamp>(File.ReadAllText(path)) : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
