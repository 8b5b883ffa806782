using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using MessagePack;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// Footer index frame payload (docs/trace-format.md, "Footer index"): a MessagePack map with the
/// chunk table, totals and why recording stopped. Written once, on clean close.
/// </summary>
internal static class IndexCodec
{
    public sealed record Footer(IReadOnlyList<ChunkInfo> Chunks, long[] Counts, long LastStep, StopReason StopReason, string StopDetail, DateTimeOffset EndTime);

    public static void Write(ByteBuffer into, Footer f)
    {
        var w = new MessagePackWriter(into);
        w.WriteMapHeader(6);
        w.Write("chunks");
        w.WriteArrayHeader(f.Chunks.Count);
        foreach (var c in f.Chunks)
        {
            w.WriteArrayHeader(6);
            w.Write(c.Offset); w.Write(c.Length); w.Write(c.Seq); w.Write(c.BaseStep); w.Write(c.LastStep);
            WriteCounts(ref w, c.Counts);
        }
        w.Write("counts"); WriteCounts(ref w, f.Counts);
        w.Write("last_step"); w.Write(f.LastStep);
        w.Write("stop_reason"); w.Write((int)f.StopReason);
        w.Write("stop_detail"); w.Write(f.StopDetail);
        w.Write("end_time_ns"); w.Write(HeaderCodec.ToUnixNanoseconds(f.EndTime));
        w.Flush();
    }

    public static void WriteCounts(ref MessagePackWriter w, long[] counts)
    {
        w.WriteArrayHeader(counts.Length);
        foreach (var n in counts) w.Write(n);
    }

    public static long[] ReadCounts(ref MessagePackReader r)
    {
        int n = r.ReadArrayHeader();
        var counts = new long[Math.Max(n, EventKinds.Limit)];
        for (int i = 0; i < n; i++)
        {
            long v = r.ReadInt64();
            if (v < 0) throw new CorruptDataException("negative event count");
            counts[i] = v;
        }
        return counts;
    }

    public static Footer Read(ReadOnlyMemory<byte> payload)
    {
        var r = new MessagePackReader(payload);
        int n = r.ReadMapHeader();
        var chunks = new List<ChunkInfo>();
        long[] counts = new long[EventKinds.Limit];
        long lastStep = 0, end = 0;
        var reason = StopReason.Unknown;
        string detail = "";
        for (int i = 0; i < n; i++)
        {
            switch (r.ReadString())
            {
                case "chunks":
                    int m = r.ReadArrayHeader();
                    for (int j = 0; j < m; j++)
                    {
                        int fields = r.ReadArrayHeader();
                        if (fields < 6) throw new CorruptDataException("index entry too short");
                        long offset = r.ReadInt64();
                        int length = r.ReadInt32();
                        int seq = r.ReadInt32();
                        long baseStep = r.ReadInt64();
                        long last = r.ReadInt64();
                        var c = ReadCounts(ref r);
                        for (int k = 6; k < fields; k++) r.Skip();
                        chunks.Add(new ChunkInfo(seq, offset, length, baseStep, last, c));
                    }
                    break;
                case "counts": counts = ReadCounts(ref r); break;
                case "last_step": lastStep = r.ReadInt64(); break;
                case "stop_reason": reason = (StopReason)r.ReadInt32(); break;
                case "stop_detail": detail = r.ReadString() ?? ""; break;
                case "end_time_ns": end = r.ReadInt64(); break;
                default: r.Skip(); break;
            }
        }
        return new Footer(chunks, counts, lastStep, reason, detail, HeaderCodec.FromUnixNanoseconds(end));
    }
}
