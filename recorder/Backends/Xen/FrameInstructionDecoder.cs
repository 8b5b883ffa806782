using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>
/// Decodes the one instruction at the start of a frame's `insn` bytes, reusing its decoders and
/// buffer: step frames arrive once per guest instruction.
/// </summary>
internal sealed class FrameInstructionDecoder
{
    private sealed class BufferReader : CodeReader
    {
        public readonly byte[] Bytes = new byte[16];
        public int Length, Position;
        public override int ReadByte() => Position < Length ? Bytes[Position++] : -1;
    }

    private readonly BufferReader _reader = new();
    private readonly Decoder _decoder32, _decoder64;
    private readonly InstructionInfoFactory _info = new();

    public FrameInstructionDecoder()
    {
        _decoder32 = Decoder.Create(32, _reader);
        _decoder64 = Decoder.Create(64, _reader);
    }

    /// <summary>False when the bytes are empty or do not start with a valid instruction. <paramref name="ip"/>:
    /// where it runs (RIP-relative operands are resolved against it).</summary>
    public bool TryDecode(ReadOnlySpan<byte> bytes, int bitness, out Instruction instruction, ulong ip = 0)
    {
        instruction = default;
        if (bytes.IsEmpty) return false;
        int n = Math.Min(bytes.Length, _reader.Bytes.Length);
        bytes[..n].CopyTo(_reader.Bytes);
        _reader.Length = n;
        _reader.Position = 0;
        var decoder = bitness == 32 ? _decoder32 : _decoder64;
        decoder.IP = ip;
        decoder.Decode(out instruction);
        return !instruction.IsInvalid;
    }

    /// <summary>Width of the instruction's first written memory operand, 0 if it writes none.</summary>
    public int WriteWidth(in Instruction instruction)
    {
        foreach (var m in _info.GetInfo(instruction).GetUsedMemory())
            if (m.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite)
                return m.MemorySize.GetSize();
        return 0;
    }
}
