using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Xen;
using MessagePack;

namespace Ether.Replay.Recorder.Tests.Xen;

/// <summary>
/// A Linux guest's frames as the agent writes them on SVM (writes derived from steps, pointer
/// arguments' memory in arg_memory), hand-made: the recorder decodes the calls with the Linux
/// tables strace-style, takes the guest's width from the first registers (not from a hello sent
/// while the guest was still in its 32-bit boot code) and ends the trace as an exit when the guest
/// goes away after exit_group.
/// </summary>
public sealed class LinuxGuestFramesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ether-linux-frames-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ulong _seq;

    /// <summary>A frame of `type` with the next seq and `keys` more keys.</summary>
    private byte[] Frame(string type, int keys, AgentFrameBytes.Body body)
    {
        ulong seq = _seq++;
        return AgentFrameBytes.Frame((ref MessagePackWriter w) =>
        {
            w.Write("type"); w.Write(type); w.Write("seq"); w.Write(seq);
            body(ref w);
        }, keys + 2);
    }

    private static void Regs(ref MessagePackWriter w, ulong rip)
    {
        w.Write("regs"); w.WriteMapHeader(4);
        w.Write("rip"); w.Write(rip); w.Write("cs"); w.Write(0x33); w.Write("efer"); w.Write(0xD01); w.Write("fs_base"); w.Write(0);
    }

    private byte[] Syscall(ulong number, ulong[] args, byte[][] memory) => Frame("syscall", 8, (ref MessagePackWriter w) =>
    {
        w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0x1000); w.Write("rip"); w.Write(0x401010);
        w.Write("mechanism"); w.Write("syscall"); w.Write("number"); w.Write(number);
        w.Write("args"); w.WriteArrayHeader(args.Length); foreach (var a in args) w.Write(a);
        w.Write("arg_memory"); w.WriteArrayHeader(memory.Length); foreach (var m in memory) w.Write(m);
        Regs(ref w, 0x401010);
    });

    [Fact]
    public void Linux_calls_are_decoded_from_arg_memory_and_the_guest_ending_after_exit_group_is_an_exit()
    {
        ulong path = 0x402000;
        var stream = new List<byte>();
        stream.AddRange(Frame("hello", 7, (ref MessagePackWriter w) =>
        {
            w.Write("protocol"); w.Write(1); w.Write("agent"); w.Write("ether-agent test"); w.Write("backend"); w.Write("xen");
            w.Write("domain"); w.Write(1); w.Write("guest_os"); w.Write("linux");
            w.Write("guest_word_size"); w.Write(4); // attached before the guest left its 32-bit boot code
            w.Write("writes_from"); w.Write("steps");
        }));
        stream.AddRange(Frame("step", 5, (ref MessagePackWriter w) =>
        {
            w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0x1000); w.Write("rip"); w.Write(0x401010);
            w.Write("insn"); w.Write(new byte[] { 0x0F, 0x05 }); Regs(ref w, 0x401010);
        }));
        // openat(AT_FDCWD, "/etc/ether-e2e-missing", O_RDONLY) = -2: the path only in arg_memory.
        stream.AddRange(Syscall(257, [unchecked((ulong)-100L), path, 0, 0, 0, 0],
            [[], "/etc/ether-e2e-missing\0garbage"u8.ToArray(), [], [], [], []]));
        stream.AddRange(Frame("syscall_return", 6, (ref MessagePackWriter w) =>
        {
            w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0x1000); w.Write("rip"); w.Write(0x401012);
            w.Write("mechanism"); w.Write("sysret"); w.Write("ret"); w.Write(unchecked((ulong)-2L)); Regs(ref w, 0x401012);
        }));
        stream.AddRange(Syscall(231, [0, 0, 0, 0, 0, 0], [[], [], [], [], [], []]));
        stream.AddRange(Frame("end", 1, (ref MessagePackWriter w) => { w.Write("reason"); w.Write("domain-gone"); }));
        using var reader = RecordedAsLinuxGuest("linux", stream);
        var events = reader.Events().ToList();
        var entries = events.OfType<SyscallEntryEvent>().ToList();
        Assert.Equal(["openat", "exit_group"], entries.Select(e => e.Name));
        Assert.Equal("linux-x86_64", entries[0].Abi);
        Assert.Equal("AT_FDCWD", entries[0].Decoded[0]);
        Assert.Equal("\"/etc/ether-e2e-missing\"", entries[0].Decoded[1]);
        Assert.Equal("O_RDONLY", entries[0].Decoded[2]);
        var exit = Assert.Single(events.OfType<SyscallExitEvent>());
        Assert.Equal((-2L, 2L), (exit.Return, exit.Errno));
        Assert.Equal("steps", reader.Header.BackendParameters["writes_from"]);
        Assert.Equal(("x86_64", "linux-x86_64"), (reader.Header.Architecture, reader.Header.BackendParameters["abi"]));
        Assert.Equal(StopReason.Exited, reader.Summary.StopReason);
    }

    /// <summary>Registers of 32-bit legacy-mode code (EFER.LMA clear, Linux's __USER_CS).</summary>
    private static void Regs32(ref MessagePackWriter w, ulong rip)
    {
        w.Write("regs"); w.WriteMapHeader(4);
        w.Write("rip"); w.Write(rip); w.Write("cs"); w.Write(0x73); w.Write("efer"); w.Write(0); w.Write("fs_base"); w.Write(0);
    }

    [Fact]
    public void A_32_bit_guests_sysenter_calls_use_the_i386_table_and_its_negative_returns_are_32_bit()
    {
        // As e2e.sh --guest32 records them: no steps, calls by sysenter, returns by sysexit, EAX = -ENOENT.
        ulong path = 0x102000;
        var stream = new List<byte>();
        stream.AddRange(Frame("hello", 5, (ref MessagePackWriter w) =>
        {
            w.Write("protocol"); w.Write(1); w.Write("backend"); w.Write("xen"); w.Write("domain"); w.Write(1);
            w.Write("guest_os"); w.Write("linux"); w.Write("guest_word_size"); w.Write(4);
        }));
        stream.AddRange(Frame("syscall", 8, (ref MessagePackWriter w) =>
        {
            w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0); w.Write("rip"); w.Write(0x101033);
            w.Write("mechanism"); w.Write("sysenter"); w.Write("number"); w.Write(295);   // i386 openat
            w.Write("args"); w.WriteArrayHeader(6); foreach (var a in new ulong[] { 0xFFFFFF9C, path, 0, 0, 0, 0 }) w.Write(a);
            w.Write("arg_memory"); w.WriteArrayHeader(6);
            foreach (var m in new byte[][] { [], "/etc/ether-e2e-missing\0"u8.ToArray(), [], [], [], [] }) w.Write(m);
            Regs32(ref w, 0x101033);
        }));
        stream.AddRange(Frame("syscall_return", 6, (ref MessagePackWriter w) =>
        {
            w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0); w.Write("rip"); w.Write(0x101035);
            w.Write("mechanism"); w.Write("sysexit"); w.Write("ret"); w.Write(0xFFFFFFFEUL); Regs32(ref w, 0x101035);
        }));
        stream.AddRange(Frame("end", 1, (ref MessagePackWriter w) => { w.Write("reason"); w.Write("domain-gone"); }));
        using var reader = RecordedAsLinuxGuest("linux32", stream);
        var events = reader.Events().ToList();
        var entry = Assert.Single(events.OfType<SyscallEntryEvent>());
        Assert.Equal(("openat", "linux-i386"), (entry.Name, entry.Abi));
        Assert.Equal(["AT_FDCWD", "\"/etc/ether-e2e-missing\"", "O_RDONLY"], entry.Decoded.Take(3));
        var exit = Assert.Single(events.OfType<SyscallExitEvent>());
        Assert.Equal((-2L, 2L), (exit.Return, exit.Errno));
        Assert.Equal("x86", reader.Header.Architecture);
    }

    /// <summary>A step frame of `mov rax, [rip+disp]` loading `address`, with what it reads (and its page, the first time).</summary>
    private byte[] LoadStep(ulong rip, ulong address, byte[] value, byte[]? page)
    {
        var insn = new byte[] { 0x48, 0x8B, 0x05, 0, 0, 0, 0 };
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(insn.AsSpan(3), (int)(address - (rip + 7)));
        return Frame("step", page == null ? 7 : 9, (ref MessagePackWriter w) =>
        {
            w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0x1000); w.Write("rip"); w.Write(rip);
            w.Write("insn"); w.Write(insn); Regs(ref w, rip);
            w.Write("reads_at"); w.WriteArrayHeader(1); w.Write(address);
            w.Write("reads"); w.WriteArrayHeader(1); w.Write(value);
            if (page == null) return;
            w.Write("pages_at"); w.WriteArrayHeader(1); w.Write(address & ~0xFFFUL);
            w.Write("pages"); w.WriteArrayHeader(1); w.Write(page);
        });
    }

    [Fact]
    public void What_a_step_reads_becomes_a_read_snapshot_once_and_a_changed_one_when_it_differs_from_the_trace()
    {
        var page = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();
        byte[] a = page[0x10..0x18], b = [1, 2, 3, 4, 5, 6, 7, 8], c = [9, 9, 9, 9, 9, 9, 9, 9], d = [0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7];
        var stream = new List<byte>();
        stream.AddRange(Frame("hello", 6, (ref MessagePackWriter w) =>
        {
            w.Write("protocol"); w.Write(1); w.Write("backend"); w.Write("xen"); w.Write("domain"); w.Write(1);
            w.Write("guest_os"); w.Write("linux"); w.Write("writes_from"); w.Write("steps"); w.Write("reads_from"); w.Write("steps");
        }));
        stream.AddRange(LoadStep(0x401000, 0x402010, a, page));                 // first read of the page: the page
        byte[] store = [0x48, 0x89, 0x1D, 0x02, 0x10, 0x00, 0x00];             // mov [rip+0x1002], rbx = [0x402010]
        stream.AddRange(Frame("step", 5, (ref MessagePackWriter w) =>
        {
            w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0x1000); w.Write("rip"); w.Write(0x401007); w.Write("insn"); w.Write(store); Regs(ref w, 0x401007);
        }));
        stream.AddRange(Frame("memory_write", 7, (ref MessagePackWriter w) =>
        {
            w.Write("vcpu"); w.Write(0); w.Write("cr3"); w.Write(0x1000); w.Write("rip"); w.Write(0x401007); w.Write("insn"); w.Write(store);
            w.Write("address"); w.Write(0x402010); w.Write("size"); w.Write(8); w.Write("bytes"); w.Write(b);
        }));
        stream.AddRange(LoadStep(0x40100E, 0x402010, b, null));                 // what the trace wrote: nothing new
        stream.AddRange(LoadStep(0x401015, 0x402010, c, null));                 // changed behind the program (the kernel)
        stream.AddRange(LoadStep(0x40101C, 0x403000, d, null));                 // a page the agent did not send: the bytes
        stream.AddRange(LoadStep(0x401023, 0x402018, page[0x18..0x20], null));  // the page as first sent: nothing new
        stream.AddRange(Frame("end", 1, (ref MessagePackWriter w) => { w.Write("reason"); w.Write("domain-gone"); }));
        using var reader = RecordedAsLinuxGuest("reads", stream);
        Assert.Equal("steps", reader.Header.BackendParameters["reads_from"]);
        var events = reader.Events().ToList();
        var stepAt = events.OfType<InstructionEvent>().ToDictionary(i => i.Rip, i => i.Step);
        Assert.Equal(6, stepAt.Count);
        var snapshots = events.OfType<RegionSnapshotEvent>().Select(s => (s.Step, s.Reason, s.Address, s.Bytes)).ToList();
        Assert.Equal(3, snapshots.Count);
        Assert.Equal((stepAt[0x401000], "read", 0x402000UL), (snapshots[0].Step, snapshots[0].Reason, snapshots[0].Address));
        Assert.Equal(page, snapshots[0].Bytes);
        Assert.Equal((stepAt[0x401015], "changed", 0x402010UL), (snapshots[1].Step, snapshots[1].Reason, snapshots[1].Address));
        Assert.Equal(c, snapshots[1].Bytes);
        Assert.Equal((stepAt[0x40101C], "read", 0x403000UL), (snapshots[2].Step, snapshots[2].Reason, snapshots[2].Address));
        Assert.Equal(d, snapshots[2].Bytes);
    }

    /// <summary>The agent frames written to a file and recorded as a Linux guest's (the replay path of `ether record xen --frames`): the trace, open.</summary>
    private TraceReader RecordedAsLinuxGuest(string name, List<byte> stream)
    {
        string frames = Path.Combine(_dir, name + ".frames");
        File.WriteAllBytes(frames, stream.ToArray());
        string output = Path.Combine(_dir, name + ".etrace");
        TraceRecorder.Record(new XenRecordOptions { FramesFile = frames, Guest = "linux", OutputPath = output });
        return TraceReader.Open(output);
    }
}
