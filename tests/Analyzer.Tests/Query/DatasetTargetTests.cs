using System.Text.Json.Nodes;

namespace Ether.Replay.Analyzer.Tests.Query;

/// <summary>The on-the-fly dataset cache of an .etrace file: reused while it is what this build would
/// export, rebuilt when the trace or the exporter changed.</summary>
public sealed class DatasetTargetTests
{
    private const string Stamp = ".ether-cache.json";

    /// <summary>Resolves the trace's cache, leaves a marker file in it, changes the stamp's exporter
    /// field with <paramref name="exporter"/>, resolves again: true when the cache was rebuilt.</summary>
    private static bool RebuiltAfter(Func<string, string> exporter)
    {
        using var dir = new TempDir();
        string trace = dir.File("p.etrace");
        FakePackedProgram.Write(trace, 1);
        string cache = DatasetTarget.Resolve(trace, null, out _);
        string marker = Path.Combine(cache, "marker");
        File.WriteAllText(marker, "");
        var stamp = JsonNode.Parse(File.ReadAllText(Path.Combine(cache, Stamp)))!;
        stamp["Exporter"] = exporter((string)stamp["Exporter"]!);
        File.WriteAllText(Path.Combine(cache, Stamp), stamp.ToJsonString());

        Assert.Equal(cache, DatasetTarget.Resolve(trace, null, out _));
        bool rebuilt = !File.Exists(marker);
        if (rebuilt) Assert.Equal(ExporterRevision.Stamp, (string)JsonNode.Parse(File.ReadAllText(Path.Combine(cache, Stamp)))!["Exporter"]!);
        return rebuilt;
    }

    [Fact]
    public void A_cache_from_this_exporter_is_reused()
    {
        Assert.False(RebuiltAfter(current => current));
    }

    [Fact]
    public void A_cache_stamped_with_the_assembly_version_is_rebuilt()
    {
        // Every cache written before the exporter had a revision carries the pinned assembly version,
        // whatever the exporter wrote into it.
        Assert.True(RebuiltAfter(_ => "0.1.0.0"));
    }

    [Fact]
    public void A_cache_from_an_earlier_exporter_revision_is_rebuilt()
    {
        Assert.True(RebuiltAfter(_ => $"{ExporterRevision.Number - 1}/{ExporterRevision.SchemaHash}"));
    }

    [Fact]
    public void A_cache_with_another_schema_is_rebuilt()
    {
        Assert.True(RebuiltAfter(_ => $"{ExporterRevision.Number}/0123456789abcdef"));
    }
}
