using Ether.Replay.Formats.Model;
using Iced.Intel;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The predicted operation of each distinct instruction of a chunk, decoded once (by Iced) the first
/// time a register change needs it, keyed by where the chunk stores the instruction's bytes (each
/// code definition has its own offset) and by the bitness the thread ran it in.
/// </summary>
internal sealed class PredictedOps
{
    private PredictedOp[] _ops = new PredictedOp[2048];
    /// <summary>1 + index into _ops per (offset, bitness) key (offset * 2 + 1 for 32-bit code); 0 = not decoded yet.</summary>
    private int[] _index = new int[2048];
    private int _count;
    private int _highest;
    private readonly ArrayCodeReader _reader = new();
    private readonly Iced.Intel.Decoder _decoder64, _decoder32;

    public PredictedOps()
    {
        _decoder64 = Iced.Intel.Decoder.Create(64, _reader);
        _decoder32 = Iced.Intel.Decoder.Create(32, _reader);
    }

    /// <summary>Forgets every op (at each chunk start: code offsets are chunk-local).</summary>
    public void Clear()
    {
        Array.Clear(_index, 0, Math.Min(_index.Length, _highest + 1));
        _count = 0;
        _highest = 0;
    }

    /// <summary>Code in 32-bit segments (Linux compat cs 0x23, Windows x86 user cs 0x1b) decodes as 32-bit; everything else as 64-bit.</summary>
    public static int Bitness(in RegisterFile registers) => registers[Ether.Replay.Formats.Model.Register.Cs] is 0x23 or 0x1b ? 32 : 64;

    /// <summary>The op of the instruction (<paramref name="code"/> at <paramref name="rip"/>) whose bytes the chunk stores at <paramref name="offset"/>.</summary>
    public ref readonly PredictedOp Get(int offset, ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        int key = offset * 2 + (bitness == 32 ? 1 : 0);
        if (key >= _index.Length) Array.Resize(ref _index, Math.Max(key + 1, _index.Length * 2));
        if (key > _highest) _highest = key;
        int at = _index[key];
        if (at == 0)
        {
            if (_count == _ops.Length) Array.Resize(ref _ops, _count * 2);
            _ops[_count] = Decode(bitness == 32 ? _decoder32 : _decoder64, code, rip, bitness);
            at = _index[key] = ++_count;
        }
        return ref _ops[at - 1];
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
