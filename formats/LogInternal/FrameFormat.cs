using System.Buffers.Binary;
using System.IO.Hashing;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// The byte-level envelope of an .etrace file (docs/trace-format.md, "File layout"):
/// file magic, then frames, each a 16-byte preamble + MessagePack payload, then an optional
/// 16-byte trailer pointing at the footer index.
/// </summary>
internal static class FrameFormat
{
    /// <summary>Bump when a reader of the previous version could misread the new layout; additions
    /// that old readers skip (new event kinds, extra array elements, extra map keys) do not bump it.</summary>
    public const int FormatVersion = 2;

    /// <summary>From this version on, register changes are stored against the instruction's predicted
    /// registers (version 1 stored plain deltas; readers still read it).</summary>
    public const int PredictionVersion = 2;

    /// <summary>"\x89ETR\r\n\x1a\n": the high byte and the line endings catch text-mode mangling, as in PNG.</summary>
    public static ReadOnlySpan<byte> FileMagic => [0x89, (byte)'E', (byte)'T', (byte)'R', 0x0D, 0x0A, 0x1A, 0x0A];
    public const int FileMagicLength = 8;

    public const int PreambleLength = 16;
    public const int TrailerLength = 16;

    /// <summary>A frame larger than this is damage, not data: keeps a reader's memory bounded.</summary>
    public const int MaxPayloadLength = 256 << 20;

    public const byte HeaderFrame = (byte)'H';
    public const byte ChunkFrame = (byte)'C';
    public const byte IndexFrame = (byte)'X';

    private static ReadOnlySpan<byte> TrailerMagic => "ETND"u8;

    public static uint Crc(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);

    /// <summary>Preamble: "ETF" + type, u32 LE payload length, u32 LE CRC-32C of the payload,
    /// u32 LE CRC-32C of the preceding 12 bytes (so a damaged length is told from a truncated file).</summary>
    public static void WritePreamble(Span<byte> into, byte type, ReadOnlySpan<byte> payload)
    {
        into[0] = (byte)'E'; into[1] = (byte)'T'; into[2] = (byte)'F'; into[3] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(into[4..], (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(into[8..], Crc(payload));
        BinaryPrimitives.WriteUInt32LittleEndian(into[12..], Crc(into[..12]));
    }

    public readonly record struct Preamble(byte Type, int PayloadLength, uint PayloadCrc);

    /// <summary>Null with <paramref name="problem"/> set when the 16 bytes are not a valid preamble.</summary>
    public static Preamble? ParsePreamble(ReadOnlySpan<byte> p, out string? problem)
    {
        problem = null;
        if (p[0] != 'E' || p[1] != 'T' || p[2] != 'F') { problem = "no frame starts here"; return null; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(p[12..]) != Crc(p[..12])) { problem = "frame preamble fails its checksum"; return null; }
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        if (length > MaxPayloadLength) { problem = $"frame claims {length} bytes, more than the {MaxPayloadLength} allowed"; return null; }
        byte type = p[3];
        if (type != HeaderFrame && type != ChunkFrame && type != IndexFrame) { problem = $"unknown frame type 0x{type:x2}"; return null; }
        return new Preamble(type, (int)length, BinaryPrimitives.ReadUInt32LittleEndian(p[8..]));
    }

    /// <summary>Trailer: u64 LE offset of the index frame, u32 LE CRC-32C of those 8 bytes, "ETND".</summary>
    public static void WriteTrailer(Span<byte> into, long indexOffset)
    {
        BinaryPrimitives.WriteInt64LittleEndian(into, indexOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(into[8..], Crc(into[..8]));
        TrailerMagic.CopyTo(into[12..]);
    }

    public static long? ParseTrailer(ReadOnlySpan<byte> t)
    {
        if (!t[12..16].SequenceEqual(TrailerMagic)) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(t[8..]) != Crc(t[..8])) return null;
        long offset = BinaryPrimitives.ReadInt64LittleEndian(t);
        return offset >= FileMagicLength ? offset : null;
    }
}
