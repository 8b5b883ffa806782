using Ether.Replay.Formats.LogInternal;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>
/// Reads an .etrace file: header, then the chunk list from the footer index (or, without a valid
/// footer, by scanning chunk headers up to the first incomplete or damaged frame). Every failure is a
/// <see cref="TraceFormatException"/> whose one-line message names the byte offset.
/// </summary>
public sealed class TraceReader : IDisposable
{
    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private readonly ChunkDecoder _decoder = new();
    private byte[] _frame = new byte[1 << 16];
    private long _unknownEvents;

    public static TraceReader Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        try
        {
            return new TraceReader(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public TraceReader(Stream input, bool leaveOpen = false)
    {
        _input = input;
        _leaveOpen = leaveOpen;
        FileSize = input.Length;
        Span<byte> magic = stackalloc byte[FrameFormat.FileMagicLength];
        if (FileSize < FrameFormat.FileMagicLength || ReadAt(0, magic) != magic.Length || !magic.SequenceEqual(FrameFormat.FileMagic))
            throw new TraceFormatException(0, "not an .etrace file: it does not start with the trace magic");
        long at = FrameFormat.FileMagicLength;
        var (status, type, payload, problem) = ReadFrame(at);
        if (status != FrameStatus.Ok) throw new TraceFormatException(at, $"trace header is unreadable: {problem}");
        if (type != FrameFormat.HeaderFrame) throw new TraceFormatException(at, "trace header missing: the first frame is not a header");
        try
        {
            Header = HeaderCodec.Read(payload);
        }
        catch (Exception e)
        {
            throw new TraceFormatException(at, $"trace header does not decode: {OneLine(e)}");
        }
        if (Header.FormatVersion > FrameFormat.FormatVersion)
            throw new TraceFormatException(at, $"trace format version {Header.FormatVersion} is newer than this tool reads ({FrameFormat.FormatVersion}); update Ether.Replay");
        _decoder.FormatVersion = Header.FormatVersion;
        long firstChunk = at + FrameFormat.PreambleLength + payload.Length;
        Summary = TryFooter(firstChunk) ?? Scan(firstChunk);
        _decoder.SizeFor(Summary.Count(EventKind.Instruction));
    }

    public TraceHeader Header { get; }
    public TraceSummary Summary { get; }
    public IReadOnlyList<ChunkInfo> Chunks => Summary.Chunks;
    public long FileSize { get; }

    /// <summary>Events of unknown kinds skipped so far (written by a newer version).</summary>
    public long UnknownEvents => _unknownEvents;

    /// <summary>Decodes chunk <paramref name="index"/>, reusing <paramref name="into"/>'s arrays when given.
    /// <paramref name="registerChanges"/> false skips the register changes (their pass is the costliest part of a
    /// decode, the prediction of format version 2 above all) for readers that need only instructions, memory writes
    /// and side events; the chunk's <see cref="DecodedChunk.HasRegisterChanges"/> says so.</summary>
    public DecodedChunk ReadChunk(int index, DecodedChunk? into = null, bool registerChanges = true)
    {
        var info = Chunks[index];
        var (status, type, payload, problem) = ReadFrame(info.Offset);
        if (status != FrameStatus.Ok) throw new TraceFormatException(info.Offset, $"chunk {info.Seq} is unreadable: {problem}");
        if (type != FrameFormat.ChunkFrame) throw new TraceFormatException(info.Offset, $"chunk {info.Seq} expected, found another frame type");
        into ??= new DecodedChunk();
        try
        {
            _decoder.Decode(payload, info.Offset, info.Length, into, registerChanges);
        }
        catch (Exception e)
        {
            throw new TraceFormatException(info.Offset, $"chunk {info.Seq} does not decode: {OneLine(e)}");
        }
        _unknownEvents += into.UnknownEvents;
        return into;
    }

    /// <summary>The decompressed body of chunk <paramref name="index"/> (valid until the next read) and its stored length.</summary>
    internal (ReadOnlyMemory<byte> Body, int StoredLength) ReadChunkBody(int index)
    {
        var info = Chunks[index];
        var (status, type, payload, problem) = ReadFrame(info.Offset);
        if (status != FrameStatus.Ok) throw new TraceFormatException(info.Offset, $"chunk {info.Seq} is unreadable: {problem}");
        if (type != FrameFormat.ChunkFrame) throw new TraceFormatException(info.Offset, $"chunk {info.Seq} expected, found another frame type");
        try
        {
            var parsed = ChunkFrameCodec.Read(payload, info.Offset, info.Length);
            return (_decoder.Decompress(parsed), parsed.StoredBody.Length);
        }
        catch (Exception e)
        {
            throw new TraceFormatException(info.Offset, $"chunk {info.Seq} does not decode: {OneLine(e)}");
        }
    }

    /// <summary>Index of the first chunk whose events reach step <paramref name="step"/> (binary search), or -1.</summary>
    public int FindChunk(long step)
    {
        var chunks = Chunks;
        int lo = 0, hi = chunks.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (chunks[mid].LastStep >= step) { found = mid; hi = mid - 1; }
            else lo = mid + 1;
        }
        return found;
    }

    /// <summary>Every event in log order, starting at the chunk that holds <paramref name="fromStep"/>
    /// and skipping events before it. Allocates an object per event: for bulk work use ReadChunk.</summary>
    public IEnumerable<TraceEvent> Events(long fromStep = 0)
    {
        int first = FindChunk(fromStep);
        if (first < 0) yield break;
        var chunk = new DecodedChunk();
        for (int i = first; i < Chunks.Count; i++)
        {
            ReadChunk(i, chunk);
            foreach (var e in ChunkEvents.InLogOrder(chunk))
                if (e.Step >= fromStep) yield return e;
        }
    }

    public void Dispose()
    {
        _decoder.Dispose();
        if (!_leaveOpen) _input.Dispose();
    }

    private enum FrameStatus { Ok, Truncated, Damaged }

    private (FrameStatus Status, byte Type, ReadOnlyMemory<byte> Payload, string? Problem) ReadFrame(long offset)
    {
        Span<byte> preambleBytes = stackalloc byte[FrameFormat.PreambleLength];
        if (offset + FrameFormat.PreambleLength > FileSize || ReadAt(offset, preambleBytes) != preambleBytes.Length)
            return (FrameStatus.Truncated, 0, default, "the file ends inside a frame preamble");
        var preamble = FrameFormat.ParsePreamble(preambleBytes, out var problem);
        if (preamble is not { } p) return (FrameStatus.Damaged, 0, default, problem);
        if (offset + FrameFormat.PreambleLength + p.PayloadLength > FileSize)
            return (FrameStatus.Truncated, p.Type, default, "the file ends inside a frame");
        if (_frame.Length < p.PayloadLength) _frame = new byte[Math.Max(p.PayloadLength, _frame.Length * 2)];
        var payload = _frame.AsMemory(0, p.PayloadLength);
        if (ReadAt(offset + FrameFormat.PreambleLength, payload.Span) != p.PayloadLength)
            return (FrameStatus.Truncated, p.Type, default, "the file ends inside a frame");
        if (FrameFormat.Crc(payload.Span) != p.PayloadCrc)
            return (FrameStatus.Damaged, p.Type, default, "frame fails its checksum");
        return (FrameStatus.Ok, p.Type, payload, null);
    }

    private int ReadAt(long offset, Span<byte> into)
    {
        _input.Position = offset;
        return _input.ReadAtLeast(into, into.Length, throwOnEndOfStream: false); // fewer only at the end of the file
    }

    /// <summary>The footer, if the trailer points at a verified index frame whose chunk table is consistent.</summary>
    private TraceSummary? TryFooter(long firstChunk)
    {
        if (FileSize < firstChunk + FrameFormat.PreambleLength + FrameFormat.TrailerLength) return null;
        Span<byte> trailer = stackalloc byte[FrameFormat.TrailerLength];
        if (ReadAt(FileSize - FrameFormat.TrailerLength, trailer) != trailer.Length) return null;
        if (FrameFormat.ParseTrailer(trailer) is not { } indexOffset || indexOffset < firstChunk || indexOffset >= FileSize) return null;
        var (status, type, payload, _) = ReadFrame(indexOffset);
        if (status != FrameStatus.Ok || type != FrameFormat.IndexFrame) return null;
        IndexCodec.Footer footer;
        try
        {
            footer = IndexCodec.Read(payload);
        }
        catch (Exception)
        {
            return null;
        }
        long expectOffset = firstChunk, expectStep = 0;
        foreach (var c in footer.Chunks)
        {
            if (c.Offset != expectOffset || c.Length < FrameFormat.PreambleLength || c.BaseStep != expectStep || c.LastStep < c.BaseStep) return null;
            expectOffset = c.Offset + c.Length;
            expectStep = c.LastStep;
        }
        if (expectOffset != indexOffset) return null;
        return new TraceSummary
        {
            Chunks = footer.Chunks,
            Counts = footer.Counts,
            LastStep = footer.LastStep,
            ClosedCleanly = true,
            StopReason = footer.StopReason,
            StopDetail = footer.StopDetail,
            EndTime = footer.EndTime,
            ReadableBytes = FileSize,
        };
    }

    /// <summary>Walks the frames from the first chunk: how a file whose writer was killed is recovered.</summary>
    private TraceSummary Scan(long offset)
    {
        var chunks = new List<ChunkInfo>();
        var counts = new long[EventKinds.Limit];
        long lastStep = 0;
        string? damage = null;
        IndexCodec.Footer? footer = null;
        while (offset < FileSize)
        {
            var (status, type, payload, problem) = ReadFrame(offset);
            if (status != FrameStatus.Ok)
            {
                damage = status == FrameStatus.Truncated
                    ? $"the file ends inside the frame at byte {offset} (recording was cut off)"
                    : $"{problem} at byte {offset}";
                break;
            }
            int length = FrameFormat.PreambleLength + payload.Length;
            if (type == FrameFormat.IndexFrame)
            {
                try { footer = IndexCodec.Read(payload); } catch (Exception) { footer = null; }
                break;
            }
            if (type != FrameFormat.ChunkFrame)
            {
                damage = $"unexpected frame type at byte {offset}";
                break;
            }
            ChunkInfo info;
            try
            {
                info = ChunkFrameCodec.Read(payload, offset, length).Info;
            }
            catch (Exception e)
            {
                damage = $"chunk header does not decode at byte {offset}: {OneLine(e)}";
                break;
            }
            if (info.BaseStep != lastStep)
            {
                damage = $"chunk at byte {offset} starts at step {info.BaseStep}, not where the previous one ended ({lastStep})";
                break;
            }
            chunks.Add(info);
            for (int i = 0; i < counts.Length && i < info.Counts.Length; i++) counts[i] += info.Counts[i];
            lastStep = info.LastStep;
            offset += length;
        }
        return new TraceSummary
        {
            Chunks = chunks,
            Counts = counts,
            LastStep = lastStep,
            ClosedCleanly = false,
            StopReason = footer?.StopReason ?? StopReason.Unknown,
            StopDetail = footer?.StopDetail ?? "",
            EndTime = footer?.EndTime,
            Damage = damage,
            ReadableBytes = offset,
        };
    }

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");
}
