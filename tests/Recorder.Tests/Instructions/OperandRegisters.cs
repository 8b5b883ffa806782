using Ether.Replay.Formats.Instructions;
using Register = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Recorder.Tests.Instructions;

/// <summary>
/// The registers the read and write operand tests compute addresses from: distinct, recognisable
/// values, so an expected range says which register it came from (<c>R(Rax + Rbx * 8 + 0x10, 8)</c>).
/// Import with <c>using static</c>.
/// </summary>
internal static class OperandRegisters
{
    public const ulong Rax = 0x7000_0000_1000, Rbx = 0x20, Rcx = 5, Rdi = 0x7000_0000_8000, Rsi = 0x7000_0000_9000;
    public const ulong Rsp = 0x7ffc_0000_0100, Rbp = 0x7ffc_0000_0200, FsBase = 0x7f00_0000_0000, GsBase = 0x7e00_0000_0000;

    public delegate void Tweak(ref RegisterFile r);

    /// <summary>The values above (rip 0x401000, rflags 0x202, every other register 0), then <paramref name="tweak"/>.</summary>
    public static RegisterFile Registers(Tweak? tweak = null)
    {
        var r = new RegisterFile();
        r[Register.Rax] = Rax; r[Register.Rbx] = Rbx; r[Register.Rcx] = Rcx; r[Register.Rdi] = Rdi;
        r[Register.Rsi] = Rsi; r[Register.Rsp] = Rsp; r[Register.Rbp] = Rbp;
        r[Register.FsBase] = FsBase; r[Register.GsBase] = GsBase; r[Register.Rflags] = 0x202;
        r.Rip = 0x401000;
        tweak?.Invoke(ref r);
        return r;
    }

    public static MemoryRange R(ulong address, int size) => new(address, size);
}
