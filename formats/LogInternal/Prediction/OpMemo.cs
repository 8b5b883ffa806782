using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// Remembers the op of each (rip, bytes, bitness) across chunks. Each chunk decodes its instructions'
/// ops afresh (code offsets are chunk-local), and a hot loop's instructions recur in every chunk:
/// looking them up here costs a few nanoseconds where Iced's decoding costs ~50. An op is a pure
/// function of its key, so the memo never changes a result; when it fills up it starts over.
/// </summary>
internal sealed class OpMemo
{
    private const int Capacity = 1 << 13;
    private const int Mask = Capacity - 1;

    private struct Entry
    {
        public ulong Rip, Low, High;
        /// <summary>Length | bitness &lt;&lt; 8; 0 = empty.</summary>
        public uint Tag;
        public PredictedOp Op;
    }

    private Entry[]? _entries; // allocated on first use: a reader of a trace without registers never needs it
    private int _count;

    public bool TryGet(ulong rip, ReadOnlySpan<byte> code, int bitness, out PredictedOp op)
    {
        var entries = _entries ??= new Entry[Capacity];
        Key(code, bitness, out ulong low, out ulong high, out uint tag);
        int i = Hash(rip, low, high) & Mask;
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Tag == 0) break;
            if (e.Tag == tag && e.Rip == rip && e.Low == low && e.High == high)
            {
                op = e.Op;
                return true;
            }
            i = (i + 1) & Mask;
        }
        op = default;
        return false;
    }

    public void Add(ulong rip, ReadOnlySpan<byte> code, int bitness, in PredictedOp op)
    {
        var entries = _entries ??= new Entry[Capacity];
        if (_count >= Capacity / 2)
        {
            Array.Clear(entries);
            _count = 0;
        }
        Key(code, bitness, out ulong low, out ulong high, out uint tag);
        int i = Hash(rip, low, high) & Mask;
        while (entries[i].Tag != 0) i = (i + 1) & Mask;
        entries[i] = new Entry { Rip = rip, Low = low, High = high, Tag = tag, Op = op };
        _count++;
    }

    /// <summary>The bytes (1-15) as two zero-padded little-endian words, and their length and bitness as a non-zero tag.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Key(ReadOnlySpan<byte> code, int bitness, out ulong low, out ulong high, out uint tag)
    {
        tag = (uint)code.Length | (uint)bitness << 8;
        if (code.Length >= 8)
        {
            low = BinaryPrimitives.ReadUInt64LittleEndian(code);
            high = Partial(code[8..]);
        }
        else
        {
            low = Partial(code);
            high = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Partial(ReadOnlySpan<byte> bytes)
    {
        ulong v = 0;
        for (int i = Math.Min(bytes.Length, 8) - 1; i >= 0; i--) v = v << 8 | bytes[i];
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ulong rip, ulong low, ulong high) =>
        (int)(((rip * 0x9E3779B97F4A7C15UL) ^ (low * 0xC2B2AE3D27D4EB4FUL) ^ high) >> 40);
}
