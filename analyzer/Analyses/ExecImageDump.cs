using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>
/// `ether unpack --dump`: a layer that arrived as a file (exec of a file or memfd the trace wrote)
/// is written out as that file, whole, as it was when it was exec'd — a runnable program (or script)
/// again, from the content the recorder kept with the exec (the files table).
/// </summary>
public static class ExecImageDump
{
    public static List<LayerDump.Dumped> Write(AnalysisDatabase db, IEnumerable<LayerRow> layers, string directory)
    {
        var dumped = new List<LayerDump.Dumped>();
        foreach (var l in layers.Where(l => l.Arrival is "exec-of-written-file" or "memfd" && l.Chain != null))
        {
            var value = db.Scalar("SELECT content FROM files WHERE trace = $t AND pid = $p AND step = $s AND op IN ('exec', 'exec-argument') AND content IS NOT NULL LIMIT 1",
                ("t", l.Trace), ("p", l.Pid), ("s", l.FirstStep));
            if (value == null || AnalysisDatabase.Materialize(value) is not byte[] content) continue;
            Directory.CreateDirectory(directory);
            string path = Path.Combine(directory, $"pid{l.Pid}-image{l.Image}-layer{l.Layer}-exec.{(content.AsSpan().StartsWith("\x7f"u8) ? "elf" : "script")}");
            File.WriteAllBytes(path, content);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            dumped.Add(new LayerDump.Dumped(path, 0, (ulong)content.Length, content.Length, 0,
                $"the file layer {l.Layer} was exec'd from ({l.Arrival}), whole, as it was at step {l.FirstStep}"));
        }
        return dumped;
    }
}
