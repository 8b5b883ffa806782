using System.Runtime.CompilerServices;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Iced.Intel;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The predicted operation of each distinct instruction of a chunk, decoded once (by Iced) the first
/// time a register change needs it (or found in the <see cref="OpMemo"/> of earlier chunks), keyed by
/// the chunk's code definition that stored the instruction's bytes (0, 1, 2, ... in order: a dense
/// index) and by the bitness the thread ran it in.
/// </summary>
internal sealed class PredictedOps
{
    /// <summary>The op of definition d in 64-bit code at [d], in 32-bit code at [d] of the second array.</summary>
    private PredictedOp[] _ops64 = new PredictedOp[1024], _ops32 = new PredictedOp[1024];
    /// <summary>Per definition: bit 0 = its 64-bit op is decoded, bit 1 = its 32-bit op is, <see cref="NotInMemo"/> = the
    /// memo had no 64-bit op for it when <see cref="Prefill"/> looked.</summary>
    private byte[] _decoded = new byte[1024];
    private int _highest = -1;
    private const byte NotInMemo = 4;
    /// <summary>Per definition <see cref="Prefill"/> saw: its rip and bytes as a memo key (what the op is a function of).</summary>
    private DefinitionKey[] _keys = new DefinitionKey[1024];
    private int _keyCount;
    /// <summary>The previous chunk's keys, 64-bit ops and decoded bits (swapped in by <see cref="Clear"/>): consecutive
    /// chunks of a program define mostly the same instructions, and in the same order (ls -la: 78 % of a chunk's
    /// definitions are the previous chunk's next one, sha256sum 93 %), so a cursor over the previous chunk finds
    /// them by comparing one key where the memo costs a random access into megabytes.</summary>
    private DefinitionKey[] _previousKeys = new DefinitionKey[1024];
    private PredictedOp[] _previousOps64 = new PredictedOp[1024];
    private byte[] _previousDecoded = new byte[1024];
    private int _previousCount, _previousHighest = -1;
    /// <summary>Definitions <see cref="Prefill"/> found in neither place: looked up in the memo afterwards.</summary>
    private int[] _missing = new int[1024];

    private struct DefinitionKey
    {
        public ulong Rip, Low, High;
        public uint Tag;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly bool Same(in DefinitionKey other) =>
            Rip == other.Rip && Low == other.Low && High == other.High && Tag == other.Tag;
    }
    private readonly OpMemo _memo = new();
    private readonly ArrayCodeReader _reader = new();
    private readonly Iced.Intel.Decoder _decoder64, _decoder32;

    public PredictedOps()
    {
        _decoder64 = Iced.Intel.Decoder.Create(64, _reader);
        _decoder32 = Iced.Intel.Decoder.Create(32, _reader);
    }

    /// <summary>Starts a chunk (definitions are chunk-local): the ops of the chunk before are kept aside for
    /// <see cref="Prefill"/> to reuse, the current ones forgotten.</summary>
    public void Clear()
    {
        (_previousKeys, _keys) = (_keys, _previousKeys);
        (_previousOps64, _ops64) = (_ops64, _previousOps64);
        (_previousDecoded, _decoded) = (_decoded, _previousDecoded);
        (_previousHighest, _highest) = (_highest, _previousHighest);
        _previousCount = _keyCount;
        _keyCount = 0;
        Array.Clear(_decoded, 0, Math.Min(_highest + 1, _decoded.Length));
        _highest = -1;
    }

    /// <summary>Code in 32-bit segments (Linux compat cs 0x23, Windows x86 user cs 0x1b) decodes as 32-bit; everything else as 64-bit.</summary>
    public static int Bitness(in RegisterFile registers) => registers[Ether.Replay.Formats.Model.Register.Cs] is 0x23 or 0x1b ? 32 : 64;

    /// <summary>The op of the instruction (<paramref name="code"/> at <paramref name="rip"/>) the chunk's code <paramref name="definition"/> stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly PredictedOp Get(int definition, ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        if ((uint)definition < (uint)_decoded.Length)
        {
            int bit = bitness == 32 ? 2 : 1;
            var ops = bitness == 32 ? _ops32 : _ops64;
            if ((_decoded[definition] & bit) != 0) return ref ops[definition];
        }
        return ref Miss(definition, code, rip, bitness);
    }

    /// <summary>The op of instruction <paramref name="instruction"/> of a decoded chunk, stored by the chunk's code
    /// <paramref name="definition"/>: the reader's hot path, which touches the instruction's bytes only on a miss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly PredictedOp Get(int definition, int bitness, DecodedChunk c, int instruction)
    {
        if ((uint)definition < (uint)_decoded.Length)
        {
            int bit = bitness == 32 ? 2 : 1;
            var ops = bitness == 32 ? _ops32 : _ops64;
            if ((_decoded[definition] & bit) != 0) return ref ops[definition];
        }
        return ref Miss(definition, c.InstructionBytes(instruction), c.InstructionRip[instruction], bitness);
    }

    /// <summary>How many look-ups <see cref="Prefill"/> keeps in flight: enough to overlap memory waits, few enough
    /// for the CPU's miss buffers (prefetches beyond them are dropped).</summary>
    private const int PrefetchDistance = 12;
    private readonly OpMemo.Probe[] _probes = new OpMemo.Probe[PrefetchDistance];

    /// <summary>Finds the 64-bit ops of a chunk's <paramref name="count"/> code definitions before the register pass
    /// asks for them one by one: first in the previous chunk (a cursor that follows its definitions in order, and
    /// <paramref name="previousCode"/>, the previous chunk's (pid, rip) → definition map, to pick the thread up again
    /// where the order differs), then the rest in the memo, each look-up started (key computed, entry prefetched)
    /// <see cref="PrefetchDistance"/> definitions ahead of its probe, so they wait for memory together.
    /// Definitions found nowhere stay for <see cref="Get"/> to decode on demand. A reused op has the same key (rip,
    /// bytes, bitness) as the one it replaces, and an op is a pure function of its key: nothing predicted changes.</summary>
    public void Prefill(DecodedChunk c, ReadOnlySpan<int> definitionInstruction, int count, int codeLength, CodeMap previousCode)
    {
        if (count > _decoded.Length) Grow(count);
        if (count > _keys.Length) Array.Resize(ref _keys, Math.Max(count, _keys.Length * 2));
        if (count > _missing.Length) Array.Resize(ref _missing, Math.Max(count, _missing.Length * 2));
        var keys = _keys;
        var previous = _previousKeys;
        int previousCount = Math.Min(_previousCount, Math.Min(previous.Length, Math.Min(_previousOps64.Length, _previousDecoded.Length)));
        int cursor = 0, misses = 0;
        // The decoder leaves room past the code bytes for the padded key's word reads (a chunk built otherwise takes the slow key).
        bool padded = c.Code.Length >= codeLength + OpMemo.PaddedKeyReach;
        for (int d = 0; d < count; d++)
        {
            int i = definitionInstruction[d];
            ref var key = ref keys[d];
            key.Rip = c.InstructionRip[i];
            if (padded) OpMemo.MakePaddedKey(c.Code, c.InstructionCodeOffset[i], c.InstructionLength[i], 64, out key.Low, out key.High, out key.Tag);
            else OpMemo.MakeKey(c.InstructionBytes(i), 64, out key.Low, out key.High, out key.Tag);
            if ((uint)cursor >= (uint)previousCount || !previous[cursor].Same(key))
            {
                if (!previousCode.TryGet(c.ThreadPid[c.InstructionThread[i]], key.Rip, out _, out _, out cursor)
                    || (uint)cursor >= (uint)previousCount || !previous[cursor].Same(key))
                {
                    // Probed below only if the memo may have it; most are instructions no chunk decoded yet.
                    if (_memo.MayContain(key.Rip, key.Low, key.High)) _missing[misses++] = d;
                    else _decoded[d] |= NotInMemo;
                    cursor = int.MaxValue;
                    continue;
                }
            }
            // Found: its op, unless no change of the previous chunk asked for it (then the memo has none either:
            // it stays for Get to decode if a change of this chunk asks).
            if ((_previousDecoded[cursor] & 1) != 0)
            {
                _ops64[d] = _previousOps64[cursor];
                _decoded[d] |= 1;
            }
            else
            {
                _decoded[d] |= NotInMemo;
            }
            cursor++;
        }
        _keyCount = count;
        _highest = Math.Max(_highest, count - 1);

        var probes = _probes;
        for (int m = 0; m < misses + PrefetchDistance; m++)
        {
            // Miss m - distance is probed before miss m reuses its place in the ring.
            int ready = m - PrefetchDistance;
            if (ready >= 0)
            {
                int d = _missing[ready];
                _decoded[d] |= _memo.Finish(probes[ready % PrefetchDistance], out _ops64[d]) ? (byte)1 : NotInMemo;
            }
            if (m < misses)
            {
                ref readonly var key = ref keys[_missing[m]];
                _memo.Start(key.Rip, key.Low, key.High, key.Tag, out probes[m % PrefetchDistance]);
            }
        }
    }

    /// <summary>Out of line: after <see cref="Prefill"/> only instructions new to the memo (or 32-bit code) come here.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref readonly PredictedOp Miss(int definition, ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        if (definition >= _decoded.Length) Grow(definition + 1);
        if (definition > _highest) _highest = definition;
        ref var op = ref (bitness == 32 ? _ops32 : _ops64)[definition];
        bool known = bitness == 64 && (_decoded[definition] & NotInMemo) != 0; // Prefill already looked (a second look-up would miss too)
        if (known || !_memo.TryGet(rip, code, bitness, out op))
        {
            op = Decode(bitness == 32 ? _decoder32 : _decoder64, code, rip, bitness);
            if (known && definition < _keyCount)
            {
                ref readonly var key = ref _keys[definition]; // made by Prefill for this definition's 64-bit op
                _memo.Add(key.Rip, key.Low, key.High, key.Tag, op);
            }
            else
            {
                _memo.Add(rip, code, bitness, op);
            }
        }
        _decoded[definition] |= (byte)(bitness == 32 ? 2 : 1);
        return ref op;
    }

    private void Grow(int needed)
    {
        int size = Math.Max(needed, _decoded.Length * 2);
        Array.Resize(ref _decoded, size);
        Array.Resize(ref _ops64, size);
        Array.Resize(ref _ops32, size);
    }

    private PredictedOp Decode(Iced.Intel.Decoder decoder, ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        if (bitness == 64 && FastOpDecoder.TryDecode64(code, rip, out var op)) return op; // the common forms, without Iced
        _reader.Reset(code);
        decoder.IP = rip;
        decoder.Decode(out var insn);
        if (insn.IsInvalid || insn.Length != code.Length) return default;
        return PredictedOp.From(insn, bitness);
    }

    /// <summary>Iced's code reader over one instruction's bytes, reused for every decode.</summary>
    private sealed class ArrayCodeReader : CodeReader
    {
        private readonly byte[] _bytes = new byte[16];
        private int _length, _position;

        public void Reset(ReadOnlySpan<byte> code)
        {
            _length = Math.Min(code.Length, _bytes.Length);
            code[.._length].CopyTo(_bytes);
            _position = 0;
        }

        public override int ReadByte() => _position < _length ? _bytes[_position++] : -1;
    }
}
