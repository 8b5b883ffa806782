using System.Runtime.CompilerServices;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

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
    private readonly OpDecoder _decoder = new();

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
            op = _decoder.Decode(code, rip, bitness);
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
}
