using static Ether.Replay.Recorder.Tests.Syscalls.DecoderTestHelpers;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>i386 processes: 32-bit registers and pointers, their own call numbers and struct layouts.</summary>
public class SyscallDecoderI386Tests
{
    private const ulong Buf = 0xffd0_1000;
    private const ulong Str = 0x0804_a000;

    [Fact]
    public void Numbers_are_the_i386_ones()
    {
        Assert.Equal(5, I386.Nr("open"));
        Assert.Equal(11, I386.Nr("execve"));
        Assert.Equal(192, I386.Nr("mmap2"));
        Assert.Equal("open", I386.Name(5));
        var mem = new FakeTargetMemory().PutString(Str, "/etc/passwd");
        Assert.Equal("open(\"/etc/passwd\", O_RDONLY|O_LARGEFILE|O_CLOEXEC) = 3", I386.Full("open", mem, 3, Str, 0x88000));
    }

    [Fact]
    public void Returns_are_sign_extended_from_eax()
    {
        var mem = new FakeTargetMemory().PutString(Str, "/nope");
        // A 64-bit tracer reads eax = 0xfffffffe: that is -ENOENT, not 4294967294.
        Assert.Equal("open(\"/nope\", O_RDONLY) = -1 ENOENT (No such file or directory)", I386.Full("open", mem, 0xfffffffe, Str, 0));
        Assert.Equal("0xf7f00000", I386.FormatReturn(I386.Nr("mmap2"), 0xf7f00000));
        Assert.Equal("-1 ENOMEM (Cannot allocate memory)", I386.FormatReturn(I386.Nr("mmap2"), 0xfffffff4));
    }

    [Fact]
    public void Execve_reads_32_bit_pointers()
    {
        var mem = new FakeTargetMemory().PutString(Str, "/bin/sh").PutString(Str + 0x10, "sh").PutString(Str + 0x20, "-c")
            .PutWords(Buf, 4, Str + 0x10, Str + 0x20, 0).PutWords(Buf + 0x40, 4, Str, 0);
        Assert.Equal("execve(\"/bin/sh\", [\"sh\", \"-c\"], 0xffd01040 /* 1 var */) = 0", I386.Full("execve", mem, 0, Str, Buf, Buf + 0x40));
    }

    [Fact]
    public void Mmap2_takes_its_offset_in_pages_and_old_mmap_a_struct()
    {
        var mem = new FakeTargetMemory();
        Assert.Equal("mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xf7f00000",
            I386.Full("mmap2", mem, 0xf7f00000, 0, 8192, 3, 0x22, 0xffffffff, 0));
        Assert.Equal("mmap2(0xf7f01000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x3000) = 0xf7f01000",
            I386.Full("mmap2", mem, 0xf7f01000, 0xf7f01000, 4096, 5, 0x812, 3, 3));
        mem.PutWords(Buf, 4, 0, 4096, 1, 2, 3, 0x1000);
        Assert.Equal("mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x1000) = 0xf7f02000", I386.Full("mmap", mem, 0xf7f02000, Buf));
        Assert.Equal("mmap(0x1234) = -1 EFAULT (Bad address)", I386.Full("mmap", mem, -14, 0x1234));
    }

    [Fact]
    public void Stat64_and_llseek()
    {
        var mem = new FakeTargetMemory().Zero(Buf, 96).PutU32(Buf + 16, 0x81a4).PutU64(Buf + 44, 1926232).PutU64(Buf + 0x100, 0);
        Assert.Equal("fstat64(3, {st_mode=S_IFREG|0644, st_size=1926232, ...}) = 0", I386.Full("fstat64", mem, 0, 3, Buf));
        var old = new FakeTargetMemory().Zero(Buf, 64).PutU16(Buf + 8, 0x41ed).PutU32(Buf + 20, 4096);
        Assert.Equal("fstat(3, {st_mode=S_IFDIR|0755, st_size=4096, ...}) = 0", I386.Full("fstat", old, 0, 3, Buf));
        Assert.Equal("_llseek(3, 0, [0], SEEK_SET) = 0", I386.Full("_llseek", mem, 0, 3, 0, 0, Buf + 0x100, 0));
        Assert.Equal("_llseek(3, 4294967306, 0xffd01100, SEEK_SET)", I386.Entry("_llseek", mem, 3, 1, 10, Buf + 0x100, 0));
    }

    [Fact]
    public void Sigaction_clone_and_iovecs_use_32_bit_layouts()
    {
        var mem = new FakeTargetMemory().Zero(Buf, 20).PutU32(Buf, 0x8049000).PutU32(Buf + 4, 0x04000000).PutU32(Buf + 8, 0xf7d01000)
            .PutU32(Buf + 12, 1 << 1);
        Assert.Equal("rt_sigaction(SIGINT, {sa_handler=0x8049000, sa_mask=[INT], sa_flags=SA_RESTORER, sa_restorer=0xf7d01000}, NULL, 8) = 0",
            I386.Full("rt_sigaction", mem, 0, 2, Buf, 0, 8));
        // i386 clone(flags, stack, ptid, tls, ctid): tls is the 4th register, child_tidptr the 5th.
        Assert.Equal("clone(child_stack=NULL, flags=CLONE_SETTLS|CLONE_CHILD_CLEARTID|SIGCHLD, tls=0xf7f00100, child_tidptr=0xf7f00200) = 7",
            I386.Full("clone", mem, 7, 0x280011, 0, 0, 0xf7f00100, 0xf7f00200));
        var iov = new FakeTargetMemory().PutString(Str, "abcdef", terminate: false).PutWords(Buf, 4, Str, 3, Str + 3, 3);
        Assert.Equal("readv(3, [{iov_base=\"abc\", iov_len=3}, {iov_base=\"def\", iov_len=3}], 2) = 6", I386.Full("readv", iov, 6, 3, Buf, 2));
    }

    [Fact]
    public void Socketcall_prints_the_call_and_its_decoded_arguments()
    {
        var mem = new FakeTargetMemory().Zero(Str, 110).PutU16(Str, 1).PutString(Str + 2, "/dev/log")
            .PutWords(Buf, 4, 3, Str, 110).PutWords(Buf + 0x20, 4, 1, 0x80001, 0);
        Assert.Equal("socketcall(SYS_CONNECT, [3, {sa_family=AF_UNIX, sun_path=\"/dev/log\"}, 110]) = 0", I386.Full("socketcall", mem, 0, 3, Buf));
        Assert.Equal("socketcall(SYS_SOCKET, [AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0]) = 3", I386.Full("socketcall", mem, 3, 1, Buf + 0x20));
        Assert.Equal("socketcall(SYS_CONNECT, 0x10) = -1 EFAULT (Bad address)", I386.Full("socketcall", mem, -14, 3, 0x10));
        Assert.Equal("socketcall(0x63 /* SYS_??? */, 0xffd01000)", I386.Entry("socketcall", mem, 99, Buf));
    }
}
