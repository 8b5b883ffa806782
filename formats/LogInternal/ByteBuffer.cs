using System.Buffers;
using System.Runtime.CompilerServices;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// A growable byte buffer with LEB128 varint writers: the column store of a chunk being written.
/// Backed by ArrayPool so a long recording does not churn the GC; Clear() keeps the capacity.
/// </summary>
internal sealed class ByteBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;

    public ByteBuffer(int initialCapacity = 4096)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);
    public Span<byte> WrittenSpanMutable => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte b)
    {
        if (_length >= _buffer.Length) Grow(1);
        _buffer[_length++] = b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteVarint(ulong value)
    {
        if (_length + 10 > _buffer.Length) Grow(10);
        var buf = _buffer;
        int pos = _length;
        while (value >= 0x80)
        {
            buf[pos++] = (byte)(value | 0x80);
            value >>= 7;
        }
        buf[pos++] = (byte)value;
        _length = pos;
    }

    /// <summary>Zigzag maps small negative and positive numbers to small unsigned ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteZigzag(long value) => WriteVarint((ulong)((value << 1) ^ (value >> 63)));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _buffer.Length) Grow(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_length + Math.Max(sizeHint, 1) > _buffer.Length) Grow(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        if (_length + Math.Max(sizeHint, 1) > _buffer.Length) Grow(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(_length);
    }

    private void Grow(int needed)
    {
        long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + needed);
        if (wanted > Array.MaxLength) wanted = Array.MaxLength;
        if (wanted < _length + needed) throw new InvalidOperationException("chunk buffer exceeds the largest array .NET can hold");
        var bigger = ArrayPool<byte>.Shared.Rent((int)wanted);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }
}
