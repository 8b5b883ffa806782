namespace Ether.Replay.Formats.Tests.Log;

/// <summary>The per-column size report (`ether info --columns`) accounts for every byte of the file.</summary>
public class TraceSizesTests
{
    [Fact]
    public void Every_byte_of_the_file_is_in_exactly_one_part_of_the_report()
    {
        var file = SampleTrace.Build(steps: 150, chunkSteps: 12);
        using var reader = new TraceReader(new MemoryStream(file));
        var r = TraceSizes.Measure(reader);
        Assert.Equal(file.Length, r.FileBytes);
        Assert.Equal(r.FileBytes, r.EnvelopeBytes + r.ChunkHeaderBytes + r.StoredBodyBytes);
        Assert.Equal(reader.Chunks.Count, r.Chunks);
        Assert.Equal(17, r.Columns.Count);
        Assert.Equal("register-values", r.Columns[8].Name);

        // A body is a MessagePack array of 17 bin columns: the columns are the body but for the
        // array header (1 byte) and each bin's header (2 bytes for a bin of up to 255 bytes, 3 up to 65,535).
        long columns = r.Columns.Sum(c => c.RawBytes);
        Assert.InRange(r.RawBodyBytes - columns, r.Chunks * (1 + 17 * 2), r.Chunks * (1 + 17 * 3));

        // The side column split by kind adds up to the side column, with one row per kind present.
        Assert.Equal(r.Columns[^1].RawBytes, r.SideKinds.Sum(k => k.RawBytes));
        Assert.Contains(r.SideKinds, k => k.Name == "keyframe" && k.Items >= r.Chunks);
        Assert.Contains(r.SideKinds, k => k.Name == "region-snapshot" && k.RawBytes > 64);
        Assert.Equal(reader.Summary.Count(EventKind.SyscallEntry), r.SideKinds.Single(k => k.Name == "syscall-entry").Items);

        // Compressed alone, each column is at most a little over its raw size (zstd's frame header).
        foreach (var c in r.Columns) Assert.True(c.CompressedBytes <= c.RawBytes + 32 * r.Chunks, $"{c.Name}: {c.CompressedBytes} of {c.RawBytes}");
        Assert.Equal(reader.Summary.Count(EventKind.RegisterChange), r.RegisterChanges);
        Assert.InRange(r.ExactlyPredictedRegisterChanges, 0, r.PredictedRegisterChanges);
    }
}
