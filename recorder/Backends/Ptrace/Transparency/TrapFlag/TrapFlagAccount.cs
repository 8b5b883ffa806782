using System.Buffers.Binary;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.TrapFlag;

/// <summary>
/// The program's own trap flag (TF) under a single-stepper that uses TF itself. The kernel hides the
/// tracer's TF from GETREGS and from signal frames, but not from everything: <c>pushf</c> stores the
/// flags with the tracer's TF set, and before stepping an instruction that can set TF (popf, iret:
/// <c>is_setting_trap_flag()</c> in arch/x86/kernel/step.c) the kernel drops its note that TF was the
/// tracer's, so a <c>pushf; popf</c> round trip makes the tracer's TF the program's (a SIGTRAP it never
/// asked for). The recorder keeps its own account: the program's TF changes only by popf/iret with
/// an image the program supplied (read here before the step), by sigreturn (the kernel's TF at the
/// system call's exit is genuine) and by entering a signal handler (which clears it).
/// </summary>
internal static class TrapFlagAccount
{
    public const ulong Tf = 0x100;

    /// <summary>
    /// For a popf/iret about to be stepped: the TF the program will have after it (from the image
    /// it pops), or null for instructions that do not load the flags (or an unreadable stack).
    /// </summary>
    public static bool? AfterStep(in Instruction insn, ulong rsp, Func<ulong, ulong?> readQword)
    {
        switch (insn.Mnemonic)
        {
            case Mnemonic.Popf:   // 16-bit: two bytes; TF is in the low word
            case Mnemonic.Popfd:
            case Mnemonic.Popfq:
                return readQword(rsp) is { } image ? (image & Tf) != 0 : null;
            case Mnemonic.Iret:   // 16-bit frame: ip, cs, flags (2 bytes each)
                return readQword(rsp + 4) is { } f16 ? (f16 & Tf) != 0 : null;
            case Mnemonic.Iretd:  // 32-bit frame: eip, cs, eflags
                return readQword(rsp + 8) is { } f32 ? (f32 & Tf) != 0 : null;
            case Mnemonic.Iretq:  // 64-bit frame: rip, cs, rflags, rsp, ss
                return readQword(rsp + 16) is { } f64 ? (f64 & Tf) != 0 : null;
            default:
                return null;
        }
    }

    /// <summary>The size of the flags image a pushf variant stored at the new rsp, or 0 for other instructions.</summary>
    public static int PushedImageSize(in Instruction insn) => insn.Mnemonic switch
    {
        Mnemonic.Pushf => 2,
        Mnemonic.Pushfd => 4,
        Mnemonic.Pushfq => 8,
        _ => 0,
    };

    /// <summary>The image a pushf stored, with TF as the program's own: true when it had to change.</summary>
    public static bool FixPushedImage(Span<byte> image, bool programTf)
    {
        ushort low = BinaryPrimitives.ReadUInt16LittleEndian(image);
        ushort want = programTf ? (ushort)(low | Tf) : (ushort)(low & ~Tf);
        if (want == low) return false;
        BinaryPrimitives.WriteUInt16LittleEndian(image, want);
        return true;
    }
}
