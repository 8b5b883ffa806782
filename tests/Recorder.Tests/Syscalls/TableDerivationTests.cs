using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Syscalls.DecoderInternal;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>
/// The decoder and the kernel write set are derived from the system-call table: the code they keep
/// is exactly what the table marks Custom, and every output kind has a size rule.
/// </summary>
public sealed class TableDerivationTests
{
    [Fact]
    public void The_calls_printed_by_code_are_exactly_the_rows_marked_custom()
    {
        var custom = LinuxSyscalls.Rows.Where(r => r.Text == SyscallText.Custom).Select(r => r.Name).ToHashSet();
        Assert.Equal(custom.Order(), CustomCalls.Renderers.Keys.Order());
    }

    [Fact]
    public void The_calls_whose_writes_are_code_are_exactly_the_rows_marked_custom_writes()
    {
        var custom = LinuxSyscalls.Rows.Where(r => r.CustomWrites).Select(r => r.Name).ToHashSet();
        Assert.Equal(custom.Order(), KernelWriteRules.CustomNames.Order());
    }

    public static TheoryData<SyscallArgKind> WrittenKinds()
    {
        var data = new TheoryData<SyscallArgKind>();
        foreach (var kind in Enum.GetValues<SyscallArgKind>().Where(SyscallArgKinds.KernelWrites))
            data.Add(kind);
        return data;
    }

    [Theory]
    [MemberData(nameof(WrittenKinds))]
    public void Every_kind_the_kernel_writes_through_has_a_size_rule(SyscallArgKind kind)
    {
        // One argument of this kind at register 0, its helper at register 1 (a length, a count or a
        // pointer to a length), over readable memory whose every 32-bit word reads as a non-null
        // pointer, a positive length and clone flags with CLONE_PARENT_SETTID: the rule must name memory.
        const ulong at = 0x10000;
        var memory = new FakeTargetMemory().Put(at, Enumerable.Range(0, 0x1000).SelectMany(_ => BitConverter.GetBytes(0x0010_1040u)).ToArray());
        var call = new LinuxSyscall { Name = "test", Args = [new SyscallArg(kind, 0, 1)] };
        ulong[] args = [at, kind == SyscallArgKind.SockaddrOut || kind == SyscallArgKind.SockoptValOut ? at + 0x100 : 64, 0, 0, 0, 0];
        var sleepInterrupted = kind is SyscallArgKind.TimespecRem or SyscallArgKind.Timespec64Rem;
        foreach (var layout in new[] { LinuxLayout.X86_64, LinuxLayout.I386 })
        {
            var writes = new List<(ulong, long)>();
            KernelWriteRules.Collect(call, new CallContext(args, new TargetReader(memory, layout), exiting: true, sleepInterrupted ? -Errno.EINTR : 8), writes);
            Assert.True(writes.Count > 0, $"{kind} ({(layout.Is64 ? "x86-64" : "i386")}): no memory written");
            Assert.All(writes, w => Assert.True(w.Item2 > 0));
        }
    }

    [Fact]
    public void Kinds_the_kernel_only_reads_are_never_recorded_as_written()
    {
        const ulong at = 0x10000;
        var memory = new FakeTargetMemory().Zero(at, 0x1000);
        foreach (var kind in Enum.GetValues<SyscallArgKind>().Where(k => !SyscallArgKinds.KernelWrites(k)))
        {
            var call = new LinuxSyscall { Name = "test", Args = [new SyscallArg(kind, 0, 1)] };
            var writes = new List<(ulong, long)>();
            KernelWriteRules.Collect(call, new CallContext([at, 64, 0, 0, 0, 0], new TargetReader(memory, LinuxLayout.X86_64), exiting: true, 8), writes);
            Assert.True(writes.Count == 0, $"{kind} is not written by the kernel, yet the rules name memory");
        }
    }

    [Fact]
    public void The_recorders_abi_door_gives_the_table_the_decoder_and_the_write_set_of_one_abi()
    {
        Assert.Same(LinuxSyscallAbi.I386, LinuxSyscallAbi.Of(compat: true));
        Assert.Same(LinuxSyscallAbi.X86_64, LinuxSyscallAbi.Of("linux-x86_64"));
        var i386 = LinuxSyscallAbi.Of("linux-i386");
        Assert.Equal(("linux-i386", "linux-i386", "linux-i386"), (i386.Calls.Abi, i386.Decoder.Abi, i386.Writes.Abi));
        Assert.True(i386.Has(397, SyscallTraits.ChangesMap)); // shmat
        Assert.False(LinuxSyscallAbi.X86_64.Has(397, SyscallTraits.ChangesMap)); // x86-64 has no call 397
    }
}
