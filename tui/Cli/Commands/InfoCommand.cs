using System.CommandLine;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Formats.Text;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether info TRACE`: what a trace file holds and whether it is whole.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "An .etrace file" };
        var verify = new Option<bool>("--verify") { Description = "Decode every chunk to check it (slower); without it only the index or chunk headers are read" };
        var command = new Command("info", "Show a trace's header, backend, target, event counts, steps, chunks, size and bytes per instruction, and whether it was closed cleanly or recovered") { trace, verify };
        command.SetAction(r => Cli.Guard(() => Run(r.GetValue(trace)!, r.GetValue(verify), Console.Out)));
        return command;
    }

    public static int Run(string path, bool verify, TextWriter output)
    {
        using var reader = Cli.OpenTrace(path);
        var h = reader.Header;
        var s = reader.Summary;
        void Line(string key, string value) => output.WriteLine($"{key,-16} {value}");

        Line("file", $"{path} ({ByteSizeText.Format(reader.FileSize)})");
        Line("format", $"etrace v{h.FormatVersion}, written by Ether.Replay {h.ToolVersion}");
        Line("backend", h.BackendParameters.Count == 0 ? h.Backend : $"{h.Backend} ({string.Join(", ", h.BackendParameters.Select(p => $"{p.Key}={p.Value}"))})");
        Line("target", h.TargetPath);
        if (h.TargetArgv.Count > 0) Line("argv", string.Join(' ', h.TargetArgv.Select(Quote)));
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
        return Cli.Ok;
    }

    private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? a : $"'{a.Replace("'", "'\\''")}'";
}
