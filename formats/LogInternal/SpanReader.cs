using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>A LEB128 number, read inline without a loop when it ends within the next 8 bytes of the column: one
    /// 8-byte load; most numbers in a chunk (steps, masks, residuals) are one byte, tested first; a longer one (v1's
    /// register deltas, v2's inexact residuals: every number below 2^56) ends at the first byte whose high bit is
    /// clear, and its value is those bytes' low 7 bits. Numbers of 9-10 bytes and the column's last 7 bytes take the
    /// careful loop, which also gives the errors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadVarint()
    {
        int pos = _pos;
        if (_data.Length - pos >= sizeof(ulong))
        {
            ulong word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref MemoryMarshal.GetReference(_data), pos));
            if ((word & 0x80) == 0)
            {
                _pos = pos + 1;
                return word & 0x7F;
            }
            ulong ends = ~word & 0x8080_8080_8080_8080;
            if (ends != 0)
            {
                _pos = pos + (BitOperations.TrailingZeroCount(ends) >> 3) + 1;
                // ends ^ (ends - 1): the bits up to and including the last byte's (clear) high bit.
                return Payload(word & (ends ^ (ends - 1)));
            }
        }
        return ReadLongVarint();
    }

    /// <summary>The low 7 bits of each byte of <paramref name="word"/>, packed (a LEB128 number's value).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Payload(ulong word) =>
        Bmi2.X64.IsSupported ? Bmi2.X64.ParallelBitExtract(word, 0x7F7F_7F7F_7F7F_7F7F) : PortablePayload(word);

    /// <summary><see cref="Payload"/> without BMI2: the gaps halved three times, 7-bit groups into 14-bit, 28-bit, then one
    /// 56-bit value. Internal for the tests (this machine takes the BMI2 path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong PortablePayload(ulong word)
    {
        word = (word & 0x007F_007F_007F_007F) | ((word & 0x7F00_7F00_7F00_7F00) >> 1);
        word = (word & 0x0000_3FFF_0000_3FFF) | ((word & 0x3FFF_0000_3FFF_0000) >> 2);
        return (word & 0x0000_0000_0FFF_FFFF) | ((word & 0x0FFF_FFFF_0000_0000) >> 4);
    }

    /// <summary>Byte by byte, every check: numbers of 9-10 bytes, numbers among the column's last 7 bytes, and the
    /// errors (a number running past the column, or longer than 64 bits).</summary>
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
