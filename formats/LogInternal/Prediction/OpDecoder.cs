using Iced.Intel;

namespace Ether.Replay.Formats.LogInternal.Prediction;

/// <summary>
/// The op of one instruction's bytes: the common 64-bit forms by <see cref="FastOpDecoder"/>, the rest by Iced, through
/// one reusable code reader and a decoder per bitness. The writer (<see cref="PredictedOps"/>) and the reader
/// (<see cref="CodeSlots"/>) each own one, so both predict from the same op for the same bytes.
/// </summary>
internal sealed class OpDecoder
{
    private readonly ArrayCodeReader _reader = new();
    private readonly Decoder _decoder64, _decoder32;

    public OpDecoder()
    {
        _decoder64 = Decoder.Create(64, _reader);
        _decoder32 = Decoder.Create(32, _reader);
    }

    /// <summary>The op of <paramref name="code"/> (one instruction) at <paramref name="rip"/> in <paramref name="bitness"/>-bit code.</summary>
    public PredictedOp Decode(ReadOnlySpan<byte> code, ulong rip, int bitness)
    {
        if (bitness == 64 && FastOpDecoder.TryDecode64(code, rip, out var op)) return op;
        var decoder = bitness == 32 ? _decoder32 : _decoder64;
        _reader.Reset(code);
        decoder.IP = rip;
        decoder.Decode(out var insn);
        if (insn.IsInvalid || insn.Length != code.Length) return PredictedOp.NoPrediction;
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
