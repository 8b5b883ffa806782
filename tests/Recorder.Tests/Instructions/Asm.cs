using Iced.Intel;

namespace Ether.Replay.Recorder.Tests.Instructions;

/// <summary>Assembles one instruction with Iced and decodes it back, as the code cache would.</summary>
internal static class Asm
{
    public static Instruction One(Action<Assembler> emit, ulong ip = 0x401000, int bitness = 64)
    {
        var assembler = new Assembler(bitness);
        emit(assembler);
        return Decode(Bytes(assembler, ip), ip, bitness);
    }

    public static byte[] Bytes(Assembler assembler, ulong ip)
    {
        var stream = new MemoryStream();
        assembler.Assemble(new StreamCodeWriter(stream), ip);
        return stream.ToArray();
    }

    public static Instruction Decode(byte[] bytes, ulong ip = 0x401000, int bitness = 64)
    {
        var decoder = Decoder.Create(bitness, bytes);
        decoder.IP = ip;
        var insn = decoder.Decode();
        Assert.False(insn.IsInvalid, $"could not decode {Convert.ToHexString(bytes)}");
        return insn;
    }
}
