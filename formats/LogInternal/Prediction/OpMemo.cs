using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The writer's memory of the op of each (rip, bytes, bitness) across chunks. Each chunk numbers its code
/// definitions afresh (code offsets are chunk-local), and a program's instructions recur in chunk after chunk:
/// looking them up here costs a probe where decoding costs more. An op is a pure function of its key, so the
/// memo never changes a result. (A reader keeps its ops in <see cref="CodeSlots"/>; the key words are shared.) It grows with the program's distinct instructions
/// (ls -la: ~28 K) up to <see cref="MaxCapacity"/>, and starts over only when that fills up: a memo smaller
/// than the program's working set would miss on every chunk.
/// </summary>
internal sealed class OpMemo
{
    private const int InitialCapacity = 1 << 12;
    /// <summary>128 K slots of 64 bytes (8 MB): up to 96 K distinct instructions (filled to three quarters).</summary>
    private const int MaxCapacity = 1 << 17;

    /// <summary>Key and op side by side (64 bytes): a hit costs one memory access.</summary>
    private struct Entry
    {
        public ulong Rip, Low, High;
        /// <summary>Length | bitness &lt;&lt; 8; 0 = empty.</summary>
        public uint Tag;
        public PredictedOp Op;
    }

    private Entry[] _entries = []; // allocated on first use
    private int _count;

    public bool TryGet(ulong rip, ReadOnlySpan<byte> code, int bitness, out PredictedOp op)
    {
        MakeKey(code, bitness, out ulong low, out ulong high, out uint tag);
        var entries = _entries;
        if (_count > 0)
        {
            int mask = entries.Length - 1;
            for (int i = Hash(rip, low, high) & mask; ; i = (i + 1) & mask)
            {
                ref var e = ref entries[i];
                if (e.Tag == 0) break;
                if (e.Tag == tag && e.Rip == rip && e.Low == low && e.High == high)
                {
                    op = e.Op;
                    return true;
                }
            }
        }
        op = default;
        return false;
    }

    public void Add(ulong rip, ReadOnlySpan<byte> code, int bitness, in PredictedOp op)
    {
        MakeKey(code, bitness, out ulong low, out ulong high, out uint tag);
        if (_count >= _entries.Length / 4 * 3)
        {
            if (_entries.Length >= MaxCapacity)
            {
                Array.Clear(_entries);
                _count = 0;
            }
            else
            {
                Grow();
            }
        }
        Insert(new Entry { Rip = rip, Low = low, High = high, Tag = tag, Op = op });
    }

    private void Insert(in Entry entry)
    {
        int mask = _entries.Length - 1;
        int i = Hash(entry.Rip, entry.Low, entry.High) & mask;
        while (_entries[i].Tag != 0) i = (i + 1) & mask;
        _entries[i] = entry;
        _count++;
    }

    private void Grow()
    {
        var old = _entries;
        _entries = WrittenZeroArray.Allocate<Entry>(old.Length == 0 ? InitialCapacity : old.Length * 2);
        _count = 0;
        foreach (ref readonly var e in old.AsSpan())
            if (e.Tag != 0) Insert(e);
    }

    /// <summary>The bytes (1-15) as two zero-padded little-endian words, and their length and bitness as a non-zero tag.
    /// Overlapping word reads inside the span instead of a byte loop: this runs for every instruction a chunk defines.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MakeKey(ReadOnlySpan<byte> code, int bitness, out ulong low, out ulong high, out uint tag)
    {
        int n = code.Length;
        tag = (uint)n | (uint)bitness << 8;
        ref byte b = ref MemoryMarshal.GetReference(code);
        high = 0;
        if (n >= 8)
        {
            low = Unsafe.ReadUnaligned<ulong>(ref b);
            // The last eight bytes, shifted so that byte 8 lands at the bottom (n == 8: nothing is left).
            if (n > 8) high = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, n - 8)) >> ((16 - n) * 8);
        }
        else if (n >= 4)
        {
            ulong tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, n - 4));
            low = Unsafe.ReadUnaligned<uint>(ref b) | (tail >> ((8 - n) * 8)) << 32;
        }
        else
        {
            low = 0;
            for (int i = n - 1; i >= 0; i--) low = low << 8 | Unsafe.Add(ref b, i);
        }
    }

    /// <summary>How many readable bytes <see cref="MakePaddedKey"/> needs from an instruction's first byte.</summary>
    public const int PaddedKeyReach = 16;

    /// <summary><see cref="MakeKey"/>'s key (the same words and tag) of the <paramref name="length"/> (1-15) bytes at
    /// <paramref name="offset"/>, for a buffer readable <see cref="PaddedKeyReach"/> bytes past it: two word reads and two
    /// masks instead of MakeKey's branches on the length, which mispredict often (lengths vary definition by definition).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MakePaddedKey(byte[] buffer, int offset, int length, int bitness, out ulong low, out ulong high, out uint tag)
    {
        ref byte b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(buffer), offset);
        tag = (uint)length | (uint)bitness << 8;
        low = Unsafe.ReadUnaligned<ulong>(ref b) & LowWordMask[length & 15];
        high = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, 8)) & HighWordMask[length & 15];
    }

    /// <summary>Per length: which bytes of the first and of the second word belong to the instruction.</summary>
    private static readonly ulong[] LowWordMask =
    [
        0, 0xFF, 0xFFFF, 0xFF_FFFF, 0xFFFF_FFFF, 0xFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF, 0xFF_FFFF_FFFF_FFFF,
        ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue,
    ];
    private static readonly ulong[] HighWordMask =
    [
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0xFF, 0xFFFF, 0xFF_FFFF, 0xFFFF_FFFF, 0xFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF, 0xFF_FFFF_FFFF_FFFF,
    ];

    /// <summary>The hash of a key (its rip and <see cref="MakeKey"/>'s words), shared with <see cref="CodeSlots"/>'s index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Hash(ulong rip, ulong low, ulong high) =>
        (int)(((rip * 0x9E3779B97F4A7C15UL) ^ (low * 0xC2B2AE3D27D4EB4FUL) ^ high) >> 40);
}
