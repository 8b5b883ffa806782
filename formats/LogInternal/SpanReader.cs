using System.Runtime.CompilerServices;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// Bounds-checked reader of one column. Any read past the end or any over-long varint throws
/// <see cref="CorruptDataException"/>: hostile bytes can make a chunk unreadable, never crash or hang.
/// </summary>
internal ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;
    private readonly string _column;

    public SpanReader(ReadOnlySpan<byte> data, string column)
    {
        _data = data;
        _pos = 0;
        _column = column;
    }

    public readonly bool AtEnd => _pos >= _data.Length;
    public readonly int Remaining => _data.Length - _pos;

    /// <summary>A LEB128 number. Most numbers in a chunk (steps, masks, residuals) are below 128: that byte is
    /// read inline, longer ones out of line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint()
    {
        if ((uint)_pos < (uint)_data.Length)
        {
            byte b = _data[_pos];
            if (b < 0x80)
            {
                _pos++;
                return b;
            }
        }
        return ReadLongVarint();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong ReadLongVarint()
    {
        ulong result = 0;
        int shift = 0;
        while (true)
        {
            if ((uint)_pos >= (uint)_data.Length) throw Corrupt("ends inside a number");
            byte b = _data[_pos++];
            if (shift == 63 && b > 1) throw Corrupt("has a number longer than 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
            shift += 7;
            if (shift > 63) throw Corrupt("has a number longer than 64 bits");
        }
    }

    /// <summary>Skips <paramref name="count"/> (1-8) zero bytes, each a varint 0, and returns true; reads nothing and
    /// returns false when they are not all zero, or are among the column's last 7 bytes (the caller then reads them
    /// one by one, with every check). One 8-byte load: the v2 reader's test for an exactly predicted change.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool SkipZeros(int count)
    {
        if ((uint)(count - 1) >= 8 || _data.Length - _pos < sizeof(ulong)) return false;
        ulong next = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_data[_pos..]);
        if (next << (64 - 8 * count) != 0) return false;
        _pos += count;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadZigzag()
    {
        ulong v = ReadVarint();
        return (long)(v >> 1) ^ -(long)(v & 1);
    }

    /// <summary>A varint that must fit a non-negative int no larger than <paramref name="max"/>.</summary>
    public int ReadCount(long max)
    {
        ulong v = ReadVarint();
        if (max < 0 || v > (ulong)max) throw Corrupt($"has a count {v} above its limit {max}");
        return (int)v;
    }

    public byte ReadByte()
    {
        if ((uint)_pos >= (uint)_data.Length) throw Corrupt("ends early");
        return _data[_pos++];
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > _data.Length - _pos) throw Corrupt("ends inside a byte string");
        var s = _data.Slice(_pos, count);
        _pos += count;
        return s;
    }

    public readonly CorruptDataException Corrupt(string what) => new($"column {_column} {what}");
}

/// <summary>Bytes that passed their checksum but do not decode: reported with the frame's offset.</summary>
internal sealed class CorruptDataException(string message) : Exception(message);
