namespace Ether.Replay.Formats.Tests.Log;

/// <summary>Cut and damaged files give the readable prefix or a one-line error with the byte offset, nothing else.</summary>
public class DamageTests
{
    private static readonly byte[] Pristine = SampleTrace.Build();
    private static readonly List<List<string>> PristineChunks = SampleTrace.EventsPerChunk(Pristine);

    /// <summary>Reads everything readable; returns the events read and the error that stopped the read, if any.</summary>
    private static (List<string> Events, TraceReader? Reader, TraceFormatException? Error) ReadAll(byte[] file)
    {
        var events = new List<string>();
        TraceReader? reader = null;
        try
        {
            reader = new TraceReader(new MemoryStream(file));
            foreach (var e in reader.Events()) events.Add(EventText.Describe(e));
            return (events, reader, null);
        }
        catch (TraceFormatException e)
        {
            return (events, reader, e);
        }
    }

    private static void AssertOneLineWithOffset(TraceFormatException e)
    {
        Assert.DoesNotContain('\n', e.Message);
        Assert.Matches(@"\(at byte \d+\)$", e.Message);
    }

    [Fact]
    public void Sample_trace_has_every_kind_in_many_chunks()
    {
        using var reader = new TraceReader(new MemoryStream(Pristine));
        Assert.True(reader.Chunks.Count >= 10);
        foreach (var kind in EventKinds.All)
            Assert.True(reader.Summary.Count(kind) > 0, $"no {kind} in the sample");
    }

    [Fact]
    public void Truncation_at_every_offset_gives_the_complete_chunks()
    {
        using var pristine = new TraceReader(new MemoryStream(Pristine));
        var chunks = pristine.Chunks;
        long firstChunk = chunks[0].Offset;
        for (int cut = 0; cut < Pristine.Length; cut++)
        {
            var (events, reader, error) = ReadAll(Pristine[..cut]);
            if (cut < firstChunk)
            {
                Assert.NotNull(error);
                AssertOneLineWithOffset(error);
                continue;
            }
            Assert.Null(error);
            int complete = chunks.Count(c => c.Offset + c.Length <= cut);
            Assert.Equal(PristineChunks.Take(complete).SelectMany(c => c).ToList(), events);
            Assert.False(reader!.Summary.ClosedCleanly);
            Assert.Equal(complete, reader.Chunks.Count);
            Assert.Equal(complete == 0 ? 0 : chunks[complete - 1].LastStep, reader.Summary.LastStep);
        }
    }

    [Fact]
    public void A_bit_flip_anywhere_gives_a_prefix_or_an_error_with_its_offset()
    {
        var all = PristineChunks.SelectMany(c => c).ToList();
        var rng = new Random(11);
        for (int at = 0; at < Pristine.Length; at++)
        {
            var damaged = (byte[])Pristine.Clone();
            damaged[at] ^= (byte)(1 << rng.Next(8));
            var (events, reader, error) = ReadAll(damaged);
            Assert.Equal(all.Take(events.Count).ToList(), events);
            if (error != null) AssertOneLineWithOffset(error);
            else if (reader!.Summary.ClosedCleanly) Assert.Equal(all.Count, events.Count);
        }
    }

    [Fact]
    public void Random_garbage_after_the_magic_is_an_error_not_a_crash()
    {
        var rng = new Random(5);
        for (int i = 0; i < 500; i++)
        {
            var file = new byte[rng.Next(0, 2000)];
            rng.NextBytes(file);
            if (file.Length >= 8 && i % 2 == 0) Pristine.AsSpan(0, 8).CopyTo(file);
            var (_, _, error) = ReadAll(file);
            Assert.NotNull(error);
            AssertOneLineWithOffset(error);
        }
    }

    [Fact]
    public void Not_a_trace_says_so()
    {
        var (_, _, error) = ReadAll("#!/bin/sh\necho hi\n"u8.ToArray());
        Assert.NotNull(error);
        Assert.Equal("not an .etrace file: it does not start with the trace magic (at byte 0)", error.Message);
    }
}
