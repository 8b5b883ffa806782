using static Ether.Replay.Recorder.Tests.Syscalls.DecoderTestHelpers;

namespace Ether.Replay.Recorder.Tests.Syscalls;

public class KernelWriteSetTests
{
    private const ulong Buf = 0x7ffd_0000_1000;
    private static readonly KernelWriteSet X64Writes = KernelWriteSet.For("linux-x86_64");
    private static readonly KernelWriteSet I386Writes = KernelWriteSet.For("linux-i386");

    private static (ulong, long)[] Writes(KernelWriteSet set, SyscallDecoder names, string call, long ret, ITargetMemory? mem = null, params ulong[] args) =>
        set.Writes(names.Nr(call), args, ret, mem ?? new FakeTargetMemory()).ToArray();

    private static (ulong, long)[] X(string call, long ret, params ulong[] args) => Writes(X64Writes, X64, call, ret, null, args);
    private static (ulong, long)[] XM(string call, long ret, ITargetMemory mem, params ulong[] args) => Writes(X64Writes, X64, call, ret, mem, args);

    [Fact]
    public void Buffers_the_kernel_filled_are_as_long_as_the_result()
    {
        Assert.Equal([(Buf, 832L)], X("read", 832, 3, Buf, 4096));
        Assert.Equal([(Buf, 784L)], X("pread64", 784, 3, Buf, 784, 64));
        Assert.Equal([(Buf, 224L)], X("getdents64", 224, 3, Buf, 32768));
        Assert.Equal([(Buf, 8L)], X("getrandom", 8, Buf, 8, 1));
        Assert.Equal([(Buf, 9L)], X("getcwd", 9, Buf, 64));
        Assert.Equal([(Buf, 11L)], X("readlink", 11, 0x1000, Buf, 64));
        Assert.Equal([(Buf, 17L)], X("readlinkat", 17, U(-100), 0x1000, Buf, 64));
        Assert.Empty(X("read", 0, 3, Buf, 4096));          // end of file: nothing written
        Assert.Empty(X("read", -11, 3, Buf, 4096));        // EAGAIN: nothing written
        Assert.Empty(X("write", 10, 1, Buf, 10));          // writes only read user memory
    }

    [Fact]
    public void Readv_spreads_the_result_over_the_iovecs()
    {
        var mem = new FakeTargetMemory().PutWords(0x1000, 8, Buf, 5, Buf + 0x100, 5, Buf + 0x200, 5);
        Assert.Equal([(Buf, 5L), (Buf + 0x100, 2L)], XM("readv", 7, mem, 3, 0x1000, 3));
        Assert.Equal([(Buf, 5L), (Buf + 0x100, 5L), (Buf + 0x200, 5L)], XM("readv", 15, mem, 3, 0x1000, 3));
        // An iovec array the target made unreadable: nothing can be said beyond it.
        Assert.Empty(XM("readv", 7, mem, 3, 0x9000, 3));
    }

    [Fact]
    public void Structures_have_their_kernel_sizes()
    {
        Assert.Equal([(Buf, 144L)], X("fstat", 0, 3, Buf));
        Assert.Equal([(Buf, 144L)], X("newfstatat", 0, U(-100), 0x1000, Buf, 0));
        Assert.Equal([(Buf, 256L)], X("statx", 0, U(-100), 0x1000, 0, 0x7ff, Buf));
        Assert.Equal([(Buf, 8L)], X("pipe2", 0, Buf, 0));
        Assert.Equal([(Buf, 390L)], X("uname", 0, Buf));
        Assert.Equal([(Buf, 16L)], X("clock_gettime", 0, 1, Buf));
        Assert.Equal([(Buf, 112L)], X("sysinfo", 0, Buf));
        Assert.Equal([(Buf, 32L)], X("times", 1718053126, Buf));
        Assert.Equal([(Buf, 16L)], X("prlimit64", 0, 0, 3, 0, Buf));
        Assert.Empty(X("prlimit64", 0, 0, 3, Buf, 0));      // only a new limit: read, not written
        Assert.Equal([(Buf, 32L)], X("rt_sigaction", 0, 2, 0, Buf, 8));
        Assert.Equal([(Buf, 8L)], X("rt_sigprocmask", 0, 2, 0x1000, Buf, 8));
        Assert.Equal([(Buf, 144L)], X("getrusage", 0, 0, Buf));
        Assert.Empty(X("fstat", -9, 3, Buf));
    }

    [Fact]
    public void I386_structures_are_smaller()
    {
        (ulong, long)[] I(string call, long ret, params ulong[] args) => Writes(I386Writes, I386, call, ret, null, args);
        Assert.Equal([(0xffd01000UL, 96L)], I("fstat64", 0, 3, 0xffd01000));
        Assert.Equal([(0xffd01000UL, 64L)], I("fstat", 0, 3, 0xffd01000));
        Assert.Equal([(0xffd01000UL, 8L)], I("clock_gettime", 0, 1, 0xffd01000));
        Assert.Equal([(0xffd01000UL, 16L)], I("clock_gettime64", 0, 1, 0xffd01000));
        Assert.Equal([(0xffd01000UL, 20L)], I("rt_sigaction", 0, 2, 0, 0xffd01000, 8));
        Assert.Equal([(0xffd01000UL, 8L)], I("ugetrlimit", 0, 7, 0xffd01000));
        Assert.Equal([(0xffd01000UL, 8L)], I("_llseek", 0, 3, 0, 0, 0xffd01000, 0));
        Assert.Empty(I("read", 0xfffffff5, 3, 0xffd01000, 10)); // eax = -EAGAIN
    }

    [Fact]
    public void Wait_and_sleep_write_only_when_they_report_something()
    {
        Assert.Equal([(Buf, 4L), (Buf + 0x100, 144L)], X("wait4", 1234, U(-1), Buf, 0, Buf + 0x100));
        Assert.Empty(X("wait4", 0, U(-1), Buf, 1, Buf + 0x100));     // WNOHANG, nobody exited
        Assert.Equal([(Buf, 16L)], X("nanosleep", -4, 0x1000, Buf));   // EINTR: time left
        Assert.Empty(X("nanosleep", 0, 0x1000, Buf));
        Assert.Equal([(Buf, 16L)], X("clock_nanosleep", -516, 1, 0, 0x1000, Buf));
        Assert.Empty(X("clock_nanosleep", -4, 1, 1, 0x1000, Buf));     // TIMER_ABSTIME: no remainder
    }

    [Fact]
    public void Socket_addresses_use_the_length_the_kernel_stored()
    {
        var mem = new FakeTargetMemory().PutU32(Buf + 0x80, 16);
        Assert.Equal([(Buf + 0x200, 4L), (Buf, 16L), (Buf + 0x80, 4L)], XM("recvfrom", 4, mem, 5, Buf + 0x200, 512, 0, Buf, Buf + 0x80));
        Assert.Equal([(Buf, 16L), (Buf + 0x80, 4L)], XM("accept4", 6, mem, 5, Buf, Buf + 0x80, 0));
        mem.PutU32(Buf + 0x90, 100_000);
        Assert.Equal([(Buf, 128L), (Buf + 0x90, 4L)], XM("getpeername", 0, mem, 5, Buf, Buf + 0x90)); // capped at sockaddr_storage
    }

    [Fact]
    public void Recvmsg_covers_data_name_control_and_the_fields_written_back()
    {
        var mem = new FakeTargetMemory()
            .PutWords(0x2000, 8, Buf, 0, 0x3000, 1, Buf + 0x400, 64).PutU32(0x2008, 16).PutU32(0x2030, 0)
            .PutWords(0x3000, 8, Buf + 0x100, 100);
        Assert.Equal([(Buf + 0x100, 40L), (Buf, 16L), (Buf + 0x400, 64L), (0x2008UL, 4L), (0x2028UL, 8L), (0x2030UL, 4L)],
            XM("recvmsg", 40, mem, 5, 0x2000, 0));
    }

    [Fact]
    public void Ioctl_writes_follow_the_request()
    {
        Assert.Equal([(Buf, 36L)], X("ioctl", 0, 1, 0x5401, Buf));           // TCGETS: struct termios
        Assert.Equal([(Buf, 8L)], X("ioctl", 0, 1, 0x5413, Buf));            // TIOCGWINSZ
        Assert.Equal([(Buf, 4L)], X("ioctl", 0, 3, 0x541b, Buf));            // FIONREAD
        Assert.Equal([(Buf, 0x2cL)], X("ioctl", 0, 3, 0x802c542a, Buf));     // TCGETS2 = _IOR('T', 0x2a, 44 bytes)
        Assert.Empty(X("ioctl", 0, 3, 0x402c542b, Buf));                     // TCSETS2: _IOW, kernel only reads
        Assert.Empty(X("ioctl", -25, 1, 0x5401, Buf));
    }

    [Fact]
    public void Thread_creation_and_control_calls()
    {
        Assert.Equal([(Buf, 4L)], X("clone", 1235, 0x3d0f00, 0x7f0000001000, Buf, 0x7f00000000a0, 0x7f0000000b00));
        Assert.Empty(X("clone", 1235, 0x1200011, 0, 0, 0x7f00000000a0, 0));
        var args = new FakeTargetMemory().Zero(0x5000, 88).PutU64(0x5000, 0x101000).PutU64(0x5008, Buf).PutU64(0x5018, Buf + 8);
        Assert.Equal([(Buf, 4L), (Buf + 8, 4L)], XM("clone3", 77, args, 0x5000, 88)); // CLONE_PIDFD | CLONE_PARENT_SETTID
        Assert.Equal([(Buf, 8L)], X("arch_prctl", 0, 0x1003, Buf));
        Assert.Empty(X("arch_prctl", 0, 0x1002, Buf));
        Assert.Equal([(Buf, 8L)], X("ptrace", 0, 2, 77, 0x401000, Buf));      // PTRACE_PEEKDATA stores the word
        Assert.Equal([(Buf, 216L)], X("ptrace", 0, 12, 77, 0, Buf));          // PTRACE_GETREGS
        Assert.Equal([(Buf + 4, 4L)], X("futex", 1, Buf, 0x85, 1, 1, Buf + 4, 0)); // FUTEX_WAKE_OP_PRIVATE updates uaddr2
        Assert.Empty(X("futex", 0, Buf, 0x81, 1));
        Assert.Equal([(Buf, 16L)], X("prctl", 0, 16, Buf));                   // PR_GET_NAME
        var poll = Assert.Single(X("poll", 1, Buf, 1, 100));
        Assert.Equal((Buf + 6, 2L), poll);                                     // only revents
    }

    [Fact]
    public void I386_socketcall_uses_the_rules_of_the_real_call()
    {
        var mem = new FakeTargetMemory().PutWords(0xffd00000, 4, 5, 0xffd01000, 512, 0, 0xffd02000, 0xffd02100).PutU32(0xffd02100, 16);
        var writes = Writes(I386Writes, I386, "socketcall", 4, mem, 12, 0xffd00000); // SYS_RECVFROM
        Assert.Equal([(0xffd01000UL, 4L), (0xffd02000UL, 16L), (0xffd02100UL, 4L)], writes);
    }

    [Fact]
    public void Calls_the_hand_written_rules_missed_now_that_the_table_has_their_output_arguments()
    {
        (ulong, long)[] I(string call, long ret, params ulong[] args) => Writes(I386Writes, I386, call, ret, null, args);
        // i386's 64-bit-time timer calls write a struct __kernel_itimerspec (two 16-byte timespecs).
        const ulong b = 0xffd0_1000;
        Assert.Equal([(b, 32L)], I("timer_gettime64", 0, 1, b));
        Assert.Equal([(b, 32L)], I("timerfd_gettime64", 0, 3, b));
        Assert.Equal([(b + 64, 32L)], I("timer_settime64", 0, 1, 0, b, b + 64));
        Assert.Equal([(b + 64, 32L)], I("timerfd_settime64", 0, 3, 0, b, b + 64));
        // ppoll and recvmmsg write the time left back into their timeout.
        Assert.Equal([(Buf + 6, 2L), (Buf + 0x100, 16L)], X("ppoll", 1, Buf, 1, Buf + 0x100, 0, 8));
        Assert.Equal([(b + 0x100, 8L)], I("ppoll", 0, b, 0, b + 0x100, 0, 8));
        var mem = new FakeTargetMemory().Zero(Buf, 128).PutU32(Buf + 56, 0); // one mmsghdr, nothing received
        Assert.Contains((Buf + 0x200, 16L), XM("recvmmsg", 1, mem, 3, Buf, 1, 0, Buf + 0x200));
        // sendmmsg stores how much of each message it sent in that message's msg_len.
        Assert.Equal([(Buf + 56, 4L), (Buf + 64 + 56, 4L)], X("sendmmsg", 2, 3, Buf, 4, 0));
        // io_getevents fills one struct io_event (32 bytes) per event it returns.
        Assert.Equal([(Buf, 96L)], X("io_getevents", 3, 0x7000, 1, 8, Buf, 0));
        // select with no descriptors is a sleep: the time left is written back all the same.
        Assert.Equal([(Buf, 16L)], X("select", 0, 0, 0, 0, 0, Buf));
        // i386's old select takes its five arguments from a struct: its fd_sets and timeout are written.
        var block = new FakeTargetMemory().PutWords(b + 0x800, 4, 8, b, 0, 0, b + 0x40);
        Assert.Equal([(b, 4L), (b + 0x40, 8L)], Writes(I386Writes, I386, "select", 1, block, b + 0x800));
                // getxattr fills at most the buffer it was given.
        Assert.Equal([(Buf, 16L)], X("getxattr", 16, 0x1000, 0x2000, Buf, 64));
        Assert.Empty(X("getxattr", 16, 0x1000, 0x2000, Buf, 0)); // size 0 only asks the length
    }

    [Fact]
    public void Unknown_calls_and_abis()
    {
        Assert.Empty(X64Writes.Writes(999, [1, 2, 3], 0, new FakeTargetMemory()));
        Assert.Throws<ArgumentException>(() => KernelWriteSet.For("nt-win7-sp1-x64"));
    }
}
