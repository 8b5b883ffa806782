using Ether.Replay.Analyzer.Export.Importers;
using Ether.Replay.Formats.Text;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>`ether info`: what a trace file holds and whether it is whole — header, backend, target,
/// how the recording ended, steps, chunks, events by kind, bytes per instruction — read from the index
/// or the chunk headers; with <c>verify</c> every chunk is decoded too; with <c>columns</c> where the
/// bytes go (<see cref="TraceSizes"/>).</summary>
public static class TraceInfoReport
{
    public static void Write(TraceReader reader, string path, bool verify, bool columns, TextWriter output)
    {
        var h = reader.Header;
        var s = reader.Summary;
        void Line(string key, string value) => output.WriteLine($"{key,-16} {value}");

        Line("file", $"{path} ({ByteSizeText.Format(reader.FileSize)})");
        Line("format", $"etrace v{h.FormatVersion}, written by Ether.Replay {h.ToolVersion}");
        Line("backend", h.BackendParameters.Count == 0 ? h.Backend : $"{h.Backend} ({string.Join(", ", h.BackendParameters.Select(p => $"{p.Key}={p.Value}"))})");
        Line("target", h.TargetPath);
        if (h.TargetArgv.Count > 0) Line("argv", ShellWords.Join(h.TargetArgv));
        if (h.TargetSha256.Length > 0) Line("sha256", h.TargetSha256);
        Line("architecture", h.Architecture);
        Line("host", h.Host);
        Line("started", h.StartTime.ToString("u"));
        if (s.EndTime is { } end) Line("ended", $"{end:u} ({(end - h.StartTime).TotalSeconds:F1} s)");

        if (s.ClosedCleanly)
            Line("state", $"closed cleanly; recording stopped: {StopReasonText.Describe(s.StopReason, s.StopDetail)}");
        else
            Line("state", $"recovered: {s.Chunks.Count} chunks, last step {s.LastStep}" +
                (s.StopReason != StopReason.Unknown ? $"; recording stopped: {StopReasonText.Describe(s.StopReason)}" : "; the recorder did not finish (killed or crashed)"));
        if (s.Damage != null) Line("damage", s.Damage);

        long instructions = s.Count(EventKind.Instruction);
        Line("steps", s.LastStep == 0 ? "none" : $"1 .. {s.LastStep:N0}");
        Line("chunks", $"{s.Chunks.Count:N0}");
        Line("instructions", $"{instructions:N0}");
        if (instructions > 0) Line("bytes/insn", $"{(double)s.ReadableBytes / instructions:F2} (whole file over instruction steps)");

        output.WriteLine();
        output.WriteLine("events");
        foreach (var kind in EventKinds.All)
            if (s.Count(kind) > 0) output.WriteLine($"  {EventKinds.Name(kind),-16} {s.Count(kind),14:N0}");
        if (s.Counts[0] > 0) output.WriteLine($"  {"(ticks)",-16} {s.Counts[0],14:N0}");

        if (verify)
        {
            var chunk = new DecodedChunk();
            for (int i = 0; i < reader.Chunks.Count; i++) reader.ReadChunk(i, chunk);
            output.WriteLine();
            output.WriteLine($"verified: all {reader.Chunks.Count:N0} chunks decode" +
                (reader.UnknownEvents > 0 ? $"; {reader.UnknownEvents:N0} events of kinds newer than this tool were skipped" : ""));
        }
        if (columns)
        {
            output.WriteLine();
            WriteColumns(TraceSizes.Measure(reader), output);
        }
    }

    /// <summary>The size report as a table; per-instruction figures use the trace's instruction count.</summary>
    public static void WriteColumns(TraceSizeReport r, TextWriter output)
    {
        double per = Math.Max(r.Instructions, 1);
        long sum = r.Columns.Sum(c => c.CompressedBytes);
        output.WriteLine($"columns (each compressed alone with zstd level {r.CompressionLevel}; B/insn = compressed bytes per instruction)");
        output.WriteLine($"  {"column",-20} {"raw",14} {"compressed",14} {"B/insn",8} {"share",6}");
        void Row(string name, long raw, long compressed, string extra = "") =>
            output.WriteLine($"  {name,-20} {raw,14:N0} {compressed,14:N0} {compressed / per,8:F3} {(sum > 0 ? 100.0 * compressed / sum : 0),5:F1}%{extra}");
        foreach (var c in r.Columns) Row(c.Name, c.RawBytes, c.CompressedBytes);
        foreach (var k in r.SideKinds) Row("  side: " + k.Name, k.RawBytes, k.CompressedBytes, $"  ({k.Items:N0} events)");
        output.WriteLine($"  {"bodies as stored",-20} {r.RawBodyBytes,14:N0} {r.StoredBodyBytes,14:N0} {r.StoredBodyBytes / per,8:F3}  ({r.Chunks:N0} chunks compressed whole)");
        output.WriteLine($"  {"chunk headers",-20} {"",14} {r.ChunkHeaderBytes,14:N0} {r.ChunkHeaderBytes / per,8:F3}");
        output.WriteLine($"  {"header, index",-20} {"",14} {r.EnvelopeBytes,14:N0} {r.EnvelopeBytes / per,8:F3}");
        output.WriteLine($"  {"file",-20} {"",14} {r.FileBytes,14:N0} {r.FileBytes / per,8:F3}");
        if (r.RegisterChanges > 0)
            output.WriteLine($"register changes {r.RegisterChanges:N0}: {r.PredictedRegisterChanges:N0} stored against their instruction's prediction, " +
                $"{r.ExactlyPredictedRegisterChanges:N0} ({100.0 * r.ExactlyPredictedRegisterChanges / r.RegisterChanges:F1}%) predicted exactly");
    }
}
