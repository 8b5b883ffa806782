using System.Runtime.CompilerServices;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Iced.Intel;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The writer's predicted operation of each distinct instruction of a chunk, decoded once (by Iced or
/// <see cref="FastOpDecoder"/>) the first time a register change needs it (or found in the <see cref="OpMemo"/> of
/// earlier chunks), keyed by the chunk's code definition that stored the instruction's bytes (0, 1, 2, ... in order:
/// a dense index) and by the bitness the thread ran it in. (A reader keeps its ops in <see cref="CodeSlots"/>.)
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

    /// <summary>Starts a chunk: definitions are chunk-local, so their ops are forgotten (the memo keeps them).</summary>
    public void Clear()
    {
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref readonly PredictedOp Miss(int definition, ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        if (definition >= _decoded.Length) Grow(definition + 1);
        if (definition > _highest) _highest = definition;
        ref var op = ref (bitness == 32 ? _ops32 : _ops64)[definition];
        if (!_memo.TryGet(rip, code, bitness, out op))
        {
            op = Decode(bitness == 32 ? _decoder32 : _decoder64, _reader, code, rip, bitness);
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

    /// <summary>The op of <paramref name="code"/> (one instruction) at <paramref name="rip"/>: the common 64-bit forms
    /// without Iced, the rest through <paramref name="decoder"/> (which reads from <paramref name="reader"/>).</summary>
    internal static PredictedOp Decode(Iced.Intel.Decoder decoder, ArrayCodeReader reader, ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        if (bitness == 64 && FastOpDecoder.TryDecode64(code, rip, out var op)) return op;
        reader.Reset(code);
        decoder.IP = rip;
        decoder.Decode(out var insn);
        if (insn.IsInvalid || insn.Length != code.Length) return default;
        return PredictedOp.From(insn, bitness);
    }

    /// <summary>Iced's code reader over one instruction's bytes, reused for every decode.</summary>
    internal sealed class ArrayCodeReader : CodeReader
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
