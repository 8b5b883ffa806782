using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.TrapFlag;
using Iced.Intel;

namespace Ether.Replay.Recorder.Tests.Transparency;

public sealed class TscAndTrapFlagTests
{
    private static Instruction Decode(params byte[] code)
    {
        var d = Iced.Intel.Decoder.Create(64, code, 0x1000);
        return d.Decode();
    }

    [Fact]
    public void Rdtsc_and_rdtscp_are_recognised_and_answered_like_the_cpu()
    {
        Assert.True(TscEmulation.Recognise([0x0f, 0x31, 0x90], out int n, out bool p) && n == 2 && !p);
        Assert.True(TscEmulation.Recognise([0x0f, 0x01, 0xf9], out n, out p) && n == 3 && p);
        Assert.False(TscEmulation.Recognise([0x0f, 0x01, 0xd0], out _, out _)); // xgetbv
        var before = new UserRegs { Rax = ulong.MaxValue, Rdx = ulong.MaxValue, Rcx = ulong.MaxValue, Rip = 0x400000 };
        var after = TscEmulation.After(before, 0x1122334455667788, rdtscp: true, aux: 0x1003, length: 3);
        Assert.Equal(0x55667788UL, after.Rax);
        Assert.Equal(0x11223344UL, after.Rdx);
        Assert.Equal(0x1003UL, after.Rcx);
        Assert.Equal(0x400003UL, after.Rip);
        Assert.Equal(ulong.MaxValue, TscEmulation.After(before, 1, rdtscp: false, aux: 0, length: 2).Rcx);
        Assert.Equal(5u, TscEmulation.Aux(5) & 0xfff);
    }

    [Fact]
    public void Popf_and_iret_images_give_the_programs_trap_flag_and_pushf_images_are_fixed()
    {
        var stack = new Dictionary<ulong, ulong> { [0x7000] = 0x346, [0x7008] = 0x33, [0x7010] = 0x202, [0x7004] = 0x100 };
        ulong? Read(ulong a) => stack.TryGetValue(a, out var v) ? v : null;
        Assert.True(TrapFlagAccount.AfterStep(Decode(0x9d), 0x7000, Read));                // popfq
        Assert.False(TrapFlagAccount.AfterStep(Decode(0x48, 0xcf), 0x7000, Read));         // iretq: flags at rsp+16
        Assert.True(TrapFlagAccount.AfterStep(Decode(0x66, 0xcf), 0x7000, Read));          // iret (16-bit): flags at rsp+4
        Assert.Null(TrapFlagAccount.AfterStep(Decode(0x90), 0x7000, Read));                // nop
        Assert.Null(TrapFlagAccount.AfterStep(Decode(0x9d), 0x9000, Read));                // unreadable stack
        Assert.Equal(8, TrapFlagAccount.PushedImageSize(Decode(0x9c)));
        Assert.Equal(2, TrapFlagAccount.PushedImageSize(Decode(0x66, 0x9c)));
        Span<byte> image = [0x46, 0x03, 0, 0, 0, 0, 0, 0];                                 // 0x346: TF set by the stepper
        Assert.True(TrapFlagAccount.FixPushedImage(image, programTf: false));
        Assert.Equal(0x46, image[0]);
        Assert.Equal(0x02, image[1]);
        Assert.False(TrapFlagAccount.FixPushedImage(image, programTf: false));
    }
}
