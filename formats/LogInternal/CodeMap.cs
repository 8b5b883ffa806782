using System.Runtime.CompilerServices;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// (pid, rip) → where that instruction's bytes are stored in the current chunk, and which code
/// definition of the chunk (0, 1, 2, ... in order) stored them. Open addressing with linear probing
/// over one array of entries (a probe reads one cache line, not one per field): one probe per
/// instruction on the writer's hot path and per definition (or failed successor guess) on the
/// decoder's, no allocation after warm-up, Clear() in O(used) per chunk.
/// </summary>
internal sealed class CodeMap
{
    /// <summary>A slot; <see cref="Length"/> 0 marks it free (instructions have 1 to 15 bytes).</summary>
    private struct Entry
    {
        public ulong Rip;
        public int Pid;
        public int Offset;
        public int Definition;
        public int Length;
    }

    private Entry[] _entries = new Entry[1024];
    private int[] _usedSlots = new int[512];
    private int _count;
    private int _mask = 1023;
    private const int MaxReserved = 1 << 16;

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(int pid, ulong rip)
    {
        ulong h = (rip ^ ((ulong)(uint)pid << 40)) * 0x9E3779B97F4A7C15UL;
        return (int)(h >> 40);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int pid, ulong rip, out int offset, out int length, out int definition)
    {
        var entries = _entries;
        int i = Hash(pid, rip) & _mask;
        while (true)
        {
            ref readonly var e = ref entries[i];
            if (e.Length == 0) break;
            if (e.Rip == rip && e.Pid == pid)
            {
                offset = e.Offset;
                length = e.Length;
                definition = e.Definition;
                return true;
            }
            i = (i + 1) & _mask;
        }
        offset = 0;
        length = 0;
        definition = 0;
        return false;
    }

    /// <summary>Maps (pid, rip) to <paramref name="length"/> (1-15) bytes at <paramref name="offset"/>; returns the
    /// definition it replaces (the same instruction redefined with other bytes), or -1.</summary>
    public int Set(int pid, ulong rip, int offset, int length, int definition)
    {
        if (length is < 1 or > 15) throw new ArgumentOutOfRangeException(nameof(length), length, "x86 instructions have 1 to 15 bytes");
        var entries = _entries;
        int i = Hash(pid, rip) & _mask;
        while (entries[i].Length != 0)
        {
            ref var e = ref entries[i];
            if (e.Rip == rip && e.Pid == pid)
            {
                int replaced = e.Definition;
                e.Offset = offset;
                e.Length = length;
                e.Definition = definition;
                return replaced;
            }
            i = (i + 1) & _mask;
        }
        entries[i] = new Entry { Rip = rip, Pid = pid, Offset = offset, Length = length, Definition = definition };
        if (_count == _usedSlots.Length) Array.Resize(ref _usedSlots, _count * 2);
        _usedSlots[_count++] = i;
        if (_count * 2 > _mask) Grow();
        return -1;
    }

    /// <summary>Makes room, while empty, for <paramref name="entries"/> (at most <see cref="MaxReserved"/>: a hostile
    /// chunk's claim allocates no more than that; past it the map grows as it fills) without growing: a reader's first
    /// large chunk otherwise grows the map from 1 K through every power of two, re-inserting all it holds each time.</summary>
    public void Reserve(int entries)
    {
        entries = Math.Min(entries, MaxReserved);
        if (_count != 0 || entries * 2 <= _mask) return;
        int size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)entries * 2 + 2);
        _entries = WrittenZeroArray.Allocate<Entry>(size);
        _usedSlots = new int[size / 2];
        _mask = size - 1;
    }

    public void Clear()
    {
        for (int k = 0; k < _count; k++) _entries[_usedSlots[k]].Length = 0;
        _count = 0;
    }

    private void Grow()
    {
        var (entries, slots, count) = (_entries, _usedSlots, _count);
        int size = (_mask + 1) * 2;
        _entries = WrittenZeroArray.Allocate<Entry>(size);
        _usedSlots = new int[size / 2];
        _mask = size - 1;
        _count = 0;
        for (int k = 0; k < count; k++)
        {
            ref readonly var e = ref entries[slots[k]];
            Set(e.Pid, e.Rip, e.Offset, e.Length, e.Definition);
        }
    }
}
