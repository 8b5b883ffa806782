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
    /// <summary>Per definition: bit 0 = its 64-bit op is decoded, bit 1 = its 32-bit op is.</summary>
    private byte[] _decoded = new byte[1024];
    private int _highest = -1;
    private readonly OpMemo _memo = new();
    private readonly ArrayCodeReader _reader = new();
    private readonly Iced.Intel.Decoder _decoder64, _decoder32;

    public PredictedOps()
    {
        _decoder64 = Iced.Intel.Decoder.Create(64, _reader);
        _decoder32 = Iced.Intel.Decoder.Create(32, _reader);
    }

    /// <summary>Forgets every op (at each chunk start: definitions are chunk-local).</summary>
    public void Clear()
    {
        Array.Clear(_decoded, 0, _highest + 1);
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

    /// <summary>Finds the 64-bit ops of a chunk's <paramref name="count"/> code definitions in the memo before the
    /// register pass asks for them one by one: each look-up is started (key computed, entry prefetched)
    /// <see cref="PrefetchDistance"/> definitions ahead of its probe, so they wait for memory together.
    /// Definitions the memo lacks stay for <see cref="Get"/> to decode on demand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Prefill(DecodedChunk c, ReadOnlySpan<int> definitionInstruction, int count)
    {
        if (count > _decoded.Length) Grow(count);
        var probes = _probes;
        for (int d = 0; d < count + PrefetchDistance; d++)
        {
            // Definition d - distance is probed before definition d reuses its place in the ring.
            int ready = d - PrefetchDistance;
            if (ready >= 0 && _memo.Finish(probes[ready % PrefetchDistance], out _ops64[ready])) _decoded[ready] |= 1;
            if (d < count)
            {
                int i = definitionInstruction[d];
                _memo.Start(c.InstructionRip[i], c.InstructionBytes(i), 64, out probes[d % PrefetchDistance]);
            }
        }
        _highest = Math.Max(_highest, count - 1);
    }

    /// <summary>Out of line: after <see cref="Prefill"/> only instructions new to the memo (or 32-bit code) come here.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref readonly PredictedOp Miss(int definition, ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        if (definition >= _decoded.Length) Grow(definition + 1);
        if (definition > _highest) _highest = definition;
        ref var op = ref (bitness == 32 ? _ops32 : _ops64)[definition];
        if (!_memo.TryGet(rip, code, bitness, out op))
        {
            op = Decode(bitness == 32 ? _decoder32 : _decoder64, code, rip, bitness);
            _memo.Add(rip, code, bitness, op);
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
