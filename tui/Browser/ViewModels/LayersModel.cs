using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Analyzer.Unpack;
using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>
/// The layers pane: the unpacking layers `ether unpack` reports (entry, region, who wrote it), a jump
/// to each layer's first instruction, a dump of a layer's region as it was when execution entered it
/// (and a runnable ELF at the original-entry-point candidate), and the memory map at the cursor.
/// </summary>
public sealed class LayersModel(BrowserSession session)
{
    public IReadOnlyList<LayerRow> Layers { get; private set; } = [];
    /// <summary>Original-entry-point candidates with their evidence; the chosen one per image first.</summary>
    public IReadOnlyList<OepRow> Oeps { get; private set; } = [];
    public bool Loaded { get; private set; }

    public void Load(IReadOnlyList<LayerRow> layers, IReadOnlyList<OepRow>? oeps = null)
    {
        Layers = layers;
        Oeps = (oeps ?? []).OrderBy(o => o.Pid).ThenBy(o => o.Image).ThenBy(o => o.Chosen ? 0 : 1).ThenBy(o => o.Rank).ToList();
        Loaded = true;
    }

    /// <summary>One line per image: its original entry point and the evidence for it; then, for a trace whose threads ran natively between steps, what the instruction counts cover.</summary>
    public IEnumerable<string> OepLines() =>
        Oeps.Where(o => o.Chosen).Select(o =>
            $"original entry point of pid {o.Pid} image {o.Image}: 0x{o.Address:x} (layer {o.Layer}, step {o.Step:N0}; {o.Evidence}: {o.Detail})" +
            (Oeps.Count(c => c.Pid == o.Pid && c.Image == o.Image) - 1 is var more and > 0 ? $" +{more} other candidates" : ""))
        .Concat(StepCoverage.Counts(StepCoverage.Mode(session.Replay.Header)) is { } note && Layers.Count > 0 ? [note] : []);

    public static string Region(LayerRow l) =>
        l.RegionStart is { } s ? $"0x{s:x}-0x{l.RegionEnd:x} {(string.IsNullOrEmpty(l.RegionName) ? "[anonymous]" : l.RegionName)}" : "?";

    /// <summary>Goes to the chosen original entry point of the selected row's image.</summary>
    public JumpResult JumpToOep(StepCursor cursor, int row)
    {
        var image = row >= 0 && row < Layers.Count ? (Layers[row].Pid, Layers[row].Image) : default;
        var oep = Oeps.FirstOrDefault(o => o.Chosen && (row < 0 || (o.Pid, o.Image) == image)) ?? Oeps.FirstOrDefault(o => o.Chosen);
        if (oep == null) return JumpResult.Stay("no original entry point: no written code ran");
        return cursor.GoTo(oep.Step, $"original entry point of pid {oep.Pid}: 0x{oep.Address:x} at step {oep.Step:N0} ({oep.Evidence})");
    }

    public JumpResult JumpToFirst(StepCursor cursor, int row)
    {
        if (row < 0 || row >= Layers.Count) return JumpResult.Stay("no layer selected");
        var l = Layers[row];
        return cursor.GoTo(l.FirstStep, $"layer {l.Layer} of pid {l.Pid}: first instruction at 0x{l.EntryAddress:x}, step {l.FirstStep:N0}");
    }

    /// <summary>Where dumps go: next to the trace, else in the temp folder when that is read-only.</summary>
    public string DumpDirectory()
    {
        string full = Path.GetFullPath(session.TracePath);
        string beside = full + ".dumps";
        try
        {
            Directory.CreateDirectory(beside);
            string probe = Path.Combine(beside, ".write-test");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return beside;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Path.Combine(Path.GetTempPath(), "ether-dumps", Path.GetFileName(full));
        }
    }

    /// <summary>Dumps layer <paramref name="row"/> on another thread (a second replay session sharing the
    /// index) and returns the line to show.</summary>
    public Task<string> DumpAsync(int row)
    {
        if (row < 0 || row >= Layers.Count) return Task.FromResult("no layer selected");
        var layer = Layers[row];
        if (layer.RegionStart == null) return Task.FromResult($"layer {layer.Layer}: its region is not known, nothing to dump");
        var fork = session.Replay.Fork();
        return Task.Run(() =>
        {
            using (fork)
            {
                try
                {
                    string directory = DumpDirectory();
                    var dumped = LayerDump.Write(fork, [layer], directory,
                        layer.OepCandidate ? Oeps.Where(o => o.Pid == layer.Pid && o.Image == layer.Image).ToList() : []);
                    if (dumped.Count == 0) return $"layer {layer.Layer}: nothing dumped";
                    return $"dumped layer {layer.Layer}: {string.Join(", ", dumped.Select(d => Path.GetFileName(d.Path)))} in {directory}";
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or TraceFormatException or InvalidOperationException)
                {
                    return $"dump of layer {layer.Layer} failed: {BrowserSession.OneLine(e)}";
                }
            }
        });
    }

    /// <summary>The memory map of <paramref name="pid"/> after the step, or null with the reason.</summary>
    public IReadOnlyList<Region>? RegionsAt(long step, int pid, out string? why)
    {
        why = session.Index.NotReadyReason("the memory map");
        if (why != null) return null;
        if (step <= 0)
        {
            why = "no step selected";
            return null;
        }
        try
        {
            return session.Replay.RegionsAt(step, pid);
        }
        catch (TraceFormatException e)
        {
            why = e.Message;
            return null;
        }
    }
}
