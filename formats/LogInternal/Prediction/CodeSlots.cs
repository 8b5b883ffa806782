using System.Numerics;
using System.Runtime.CompilerServices;
using Ether.Replay.Formats.Log;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The reader's predicted ops, kept for its whole life: one slot per distinct instruction (rip and bytes) it has met,
/// holding the instruction's key and, once a register change asked for it, its op. Each chunk maps its code
/// definitions to slots (<see cref="Resolve"/>), and the register pass reads ops by slot.
/// Chunks are self-contained, so every chunk re-defines its code (ls -la: 459 K definitions in 1.9 M instructions);
/// finding each definition's op must cost little. Consecutive chunks define mostly the same instructions in the same
/// order, so each slot remembers the slot defined after it last time, and a definition first compares against that
/// guess (one sequential entry); only a wrong guess hashes the key. An op is a pure function of its key (rip, bytes,
/// bitness), so a slot found by either way gives exactly the op a fresh decode would: nothing predicted changes.
/// This replaced a per-chunk op table filled from the previous chunk or a memo (measured: ls -la spent 9 % of its
/// v2 decode there; every op was copied per chunk, and each new instruction was written into a memo of megabytes).
/// </summary>
internal sealed class CodeSlots
{
    /// <summary>A distinct instruction: its rip and bytes as <see cref="OpMemo.MakeKey"/>'s words and tag (length;
    /// bitness is not part of it: the two ops are kept apart), and the slot a chunk defined after it last time.</summary>
    private struct Slot
    {
        public ulong Rip, Low, High;
        public uint Tag;
        public int Next;
    }

    // Slots, ops and decoded bits are allocated uninitialised (each entry is written before it is read: Add writes its
    // slot, marks its 64-bit op undecoded and clears its decoded bits; Decode writes an op before marking it), so capacity
    // a reader never uses is never zeroed (and, where the memory is fresh, never touched). Only the index must start
    // zeroed. (Measured: zeroed arrays that doubled from 1 K slots were 4.5 MB of the 8.8 MB a fresh reader allocated to
    // decode cksum's trace.)
    private Slot[] _slots = [];
    private PredictedOp[] _ops64 = [];
    private PredictedOp[] _ops32 = [];
    /// <summary>Per slot: bit 1 = its 32-bit op is decoded. (A 64-bit op not yet decoded has the kind <see cref="Undecoded"/>,
    /// so the register pass's hot path reads the op alone, not a bit first: one dependent load less per predicted change.)</summary>
    private byte[] _decoded = [];
    private const PredictKind Undecoded = (PredictKind)0xFF;
    private int _count;
    /// <summary>Hash of the key → slot + 1 (0 = free): open addressing over ints, so a probe stays in a small array
    /// and reads the one slot it lands on.</summary>
    private int[] _index = [];
    /// <summary>How many slots the first chunk allocates room for (<see cref="SizeFor"/>).</summary>
    private int _initialSlots = MinInitialSlots;

    private const int MinInitialSlots = 1024, MaxInitialSlots = 1 << 15;
    /// <summary>The slot of the last resolved chunk's first definition: the guess for the next chunk's first.</summary>
    private int _first = -1;

    /// <summary>Above this many slots (a program that keeps generating code) the table starts over at the next chunk:
    /// a chunk re-defines everything it runs, so nothing is lost but the decoded ops. 256 K slots take ~18 MB.</summary>
    public int MaxSlots { get; set; } = 1 << 18;

    /// <summary>How many distinct instructions the table holds.</summary>
    public int Count => _count;

    private readonly OpDecoder _decoder = new();

    /// <summary>Sizes the table, before the first chunk, for a trace of <paramref name="instructions"/> instructions, so a
    /// reader does not copy its slots through doublings from 1 K: one slot per eight instructions (a trace runs each
    /// distinct instruction many times: 5 % of cksum's 0.36 M instructions are distinct, 1.4 % of ls -la's 1.9 M), as a power
    /// of two from 1 K up to 32 K (the start-up code of a dynamically linked program alone is ~15-20 K distinct instructions;
    /// past that the table grows as it needs).</summary>
    public void SizeFor(long instructions)
    {
        if (_slots.Length != 0) return;
        long wanted = Math.Clamp(instructions / 8, MinInitialSlots, Math.Min(MaxInitialSlots, Math.Max(MaxSlots, MinInitialSlots)));
        _initialSlots = (int)BitOperations.RoundUpToPowerOf2((ulong)wanted);
    }

    /// <summary>The slots of a chunk's <paramref name="count"/> code definitions (<paramref name="table"/>, their bytes
    /// in <paramref name="c"/>'s Code) into <paramref name="slots"/>, adding the instructions met for the first time.</summary>
    public void Resolve(DecodedChunk c, ReadOnlySpan<CodeDefinition> table, ReadOnlySpan<int> definitionInstruction, int count, int codeLength, Span<int> slots)
    {
        if (_slots.Length == 0) Allocate(_initialSlots);
        else if (_count >= MaxSlots) Reset();
        // The decoder leaves room past the code bytes for the padded key's word reads (a chunk built otherwise takes the slow key).
        bool padded = c.Code.Length >= codeLength + OpMemo.PaddedKeyReach;
        int previous = -1;
        for (int d = 0; d < count; d++)
        {
            ref readonly var definition = ref table[d];
            ulong rip = definition.Rip, low, high;
            uint tag;
            int length = definition.Length;
            if (length == 0) length = c.InstructionLength[definitionInstruction[d]]; // replaced later in the chunk (the table forgets its length)
            if (padded) OpMemo.MakePaddedKey(c.Code, definition.Offset, length, 0, out low, out high, out tag);
            else OpMemo.MakeKey(c.Code.AsSpan(definition.Offset, length), 0, out low, out high, out tag);

            int slot = previous >= 0 ? _slots[previous].Next : _first;
            if ((uint)slot >= (uint)_count || !Same(_slots[slot], rip, low, high, tag)) slot = Find(rip, low, high, tag);
            // Only a wrong guess changes the link: storing the same value anyway dirtied the slot's line on every
            // definition (measured: cksum v2/v1 0.969 -> 0.997, median of 5 processes, every one higher).
            if (previous >= 0 && _slots[previous].Next != slot) _slots[previous].Next = slot;
            slots[d] = slot;
            previous = slot;
        }
        if (count > 0) _first = slots[0];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Same(in Slot s, ulong rip, ulong low, ulong high, uint tag) =>
        s.Rip == rip && s.Low == low && s.High == high && s.Tag == tag;

    /// <summary>The slot of the key, added if new: out of line (most definitions are found by the guess).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Find(ulong rip, ulong low, ulong high, uint tag)
    {
        var index = _index;
        int mask = index.Length - 1;
        for (int i = OpMemo.Hash(rip, low, high) & mask; ; i = (i + 1) & mask)
        {
            int at = index[i] - 1;
            if (at < 0)
            {
                int slot = Add(rip, low, high, tag);
                if (_count * 2 > index.Length) Rehash();
                else index[i] = slot + 1;
                return slot;
            }
            if (Same(_slots[at], rip, low, high, tag)) return at;
        }
    }

    private int Add(ulong rip, ulong low, ulong high, uint tag)
    {
        int slot = _count++;
        if (slot == _slots.Length)
        {
            int size = _slots.Length * 2;
            _slots = Grown(_slots, size, slot);
            _ops64 = Grown(_ops64, size, slot);
            _decoded = Grown(_decoded, size, slot);
            if (_ops32.Length > 0) _ops32 = Grown(_ops32, size, slot);
        }
        _slots[slot] = new Slot { Rip = rip, Low = low, High = high, Tag = tag, Next = -1 };
        _ops64[slot].Kind = Undecoded;
        _decoded[slot] = 0;
        return slot;
    }

    private void Allocate(int slots)
    {
        _slots = GC.AllocateUninitializedArray<Slot>(slots);
        _ops64 = GC.AllocateUninitializedArray<PredictedOp>(slots);
        _decoded = GC.AllocateUninitializedArray<byte>(slots);
        _index = WrittenZeroArray.Allocate<int>(slots * 2);
    }

    /// <summary>A copy of the first <paramref name="used"/> entries of <paramref name="array"/> in a larger uninitialised one.</summary>
    private static T[] Grown<T>(T[] array, int size, int used)
    {
        var grown = GC.AllocateUninitializedArray<T>(size);
        array.AsSpan(0, used).CopyTo(grown);
        return grown;
    }

    /// <summary>Doubles the index and re-enters every slot (the one just added included).</summary>
    private void Rehash()
    {
        var index = WrittenZeroArray.Allocate<int>(_index.Length * 2);
        int mask = index.Length - 1;
        for (int s = 0; s < _count; s++)
        {
            ref readonly var slot = ref _slots[s];
            int i = OpMemo.Hash(slot.Rip, slot.Low, slot.High) & mask;
            while (index[i] != 0) i = (i + 1) & mask;
            index[i] = s + 1;
        }
        _index = index;
    }

    private void Reset()
    {
        Array.Clear(_index);
        _count = 0;
        _first = -1;
    }

    /// <summary>The op of instruction <paramref name="instruction"/> of the chunk, whose definition has <paramref name="slot"/>:
    /// the register pass's hot path, which touches the instruction's bytes only the first time the reader needs the op.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly PredictedOp Get(int slot, int bitness, DecodedChunk c, int instruction)
    {
        if (bitness != 32)
        {
            ref readonly var op = ref _ops64[slot];
            if (op.Kind != Undecoded) return ref op;
        }
        else if ((_decoded[slot] & 2) != 0)
        {
            return ref _ops32[slot];
        }
        return ref Decode(slot, bitness, c, instruction);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref readonly PredictedOp Decode(int slot, int bitness, DecodedChunk c, int instruction)
    {
        if (bitness == 32 && _ops32.Length < _slots.Length) _ops32 = Grown(_ops32, _slots.Length, _ops32.Length);
        ref var op = ref (bitness == 32 ? _ops32 : _ops64)[slot];
        op = _decoder.Decode(c.InstructionBytes(instruction), c.InstructionRip[instruction], bitness);
        if (bitness == 32) _decoded[slot] |= 2;
        return ref op;
    }
}
