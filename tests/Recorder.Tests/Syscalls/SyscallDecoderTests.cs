using System.Buffers.Binary;
using System.Text;
using static Ether.Replay.Recorder.Tests.Syscalls.DecoderTestHelpers;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>x86-64 decoding, checked against what strace 6.1 prints for the same calls on this machine.</summary>
public class SyscallDecoderTests
{
    private const ulong Buf = 0x7ffd_0000_1000;
    private const ulong Str = 0x5555_0000_2000;

    [Fact]
    public void Openat_prints_dirfd_path_and_flags()
    {
        var mem = new FakeTargetMemory().PutString(Str, "/etc/ld.so.cache");
        Assert.Equal("openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3",
            X64.Full("openat", mem, 3, U(-100), Str, 0x80000, 0));
        Assert.Equal("openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY) = -1 ENOENT (No such file or directory)",
            X64.Full("openat", mem, -2, U(-100), Str, 0, 0));
        // The directory opendir() uses: flags in strace's order, not the header's.
        Assert.Equal("openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY)",
            X64.Entry("openat", mem, U(-100), Str, 0x90800));
    }

    [Fact]
    public void Openat_prints_the_mode_only_when_creating()
    {
        var mem = new FakeTargetMemory().PutString(Str, "out.txt");
        Assert.Equal("openat(3, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC|O_APPEND, 0640)",
            X64.Entry("openat", mem, 3, Str, 0x241 | 0x400, 0x1a0));
        Assert.Equal("openat(3, \"out.txt\", O_RDWR|O_EXCL|O_TMPFILE, 0600)",
            X64.Entry("openat", mem, 3, Str, 0x410082, 0x180));
        Assert.Equal("openat(3, \"out.txt\", O_ACCMODE|0x40000000)", X64.Entry("openat", mem, 3, Str, 0x40000003, 0));
    }

    [Fact]
    public void Read_shows_the_pointer_before_and_the_bytes_after()
    {
        byte[] elf = [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, (byte)'>', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xAA, 0xBB];
        var mem = new FakeTargetMemory().Put(Buf, elf);
        var nr = X64.Nr("read");
        Assert.Equal(["3", "0x7ffd00001000", "832"], X64.DecodeEntry(nr, [3, Buf, 832], mem));
        Assert.Equal("read(3, \"\\177ELF\\2\\1\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"..., 832) = 832",
            X64.Full("read", mem, 832, 3, Buf, 832));
        // End of file and errors: no bytes to show.
        Assert.Equal("read(3, \"\", 1024) = 0", X64.Full("read", mem, 0, 3, Buf, 1024));
        Assert.Null(X64.DecodeExit(nr, [3, Buf, 832], -9, mem));
        Assert.Equal("read(3, 0x7ffd00001000, 832) = -1 EBADF (Bad file descriptor)", X64.Full("read", mem, -9, 3, Buf, 832));
    }

    [Fact]
    public void Strings_are_quoted_with_straces_escapes()
    {
        var bytes = "a\0b\u0001\u007f\u00ff\"\\\t\n\r\v\f1\0"u8.ToArray();
        bytes = Encoding.Latin1.GetBytes("a\0b\u0001\u007f\u00ff\"\\\t\n\r\v\f1\0");
        var mem = new FakeTargetMemory().Put(Buf, bytes).Put(Buf + 0x100, [1, (byte)'2', 0]);
        Assert.Equal("write(1, \"a\\0b\\1\\177\\377\\\"\\\\\\t\\n\\r\\v\\f1\\0\", 15) = 15",
            X64.Full("write", mem, 15, 1, Buf, 15));
        // An octal digit after an escape forces the three-digit form.
        Assert.Equal("write(1, \"\\0012\\0\", 3) = 3", X64.Full("write", mem, 3, 1, Buf + 0x100, 3));
    }

    [Fact]
    public void Buffers_are_cut_at_32_bytes()
    {
        var mem = new FakeTargetMemory().PutString(Buf, "0123456789012345678901234567890123456789");
        Assert.Equal("write(1, \"01234567890123456789012345678901\"..., 40) = 40", X64.Full("write", mem, 40, 1, Buf, 40));
        Assert.Equal("write(1, \"01234567890123456789012345678901\", 32) = 32", X64.Full("write", mem, 32, 1, Buf, 32));
        Assert.Equal("write(1, \"0123456789012345678901234567890\", 31) = 31", X64.Full("write", mem, 31, 1, Buf, 31));
    }

    [Fact]
    public void Unreadable_pointers_print_as_hex()
    {
        var mem = new FakeTargetMemory().PutString(Buf, "0123456789012345678901234567890123456789", terminate: false);
        Assert.Equal("write(1, 0x1, 10)", X64.Entry("write", mem, 1, 1, 10));
        Assert.Equal("write(1, NULL, 10)", X64.Entry("write", mem, 1, 0, 10));
        // Like strace, a long buffer needs 33 readable bytes: here only 40 exist, so 100 reads fine...
        Assert.Equal("write(1, \"01234567890123456789012345678901\"..., 100)", X64.Entry("write", mem, 1, Buf, 100));
        // ...but starting 8 bytes before the end, the 33-byte read fails and the pointer is shown.
        Assert.Equal("write(1, 0x7ffd00001008, 100)", X64.Entry("write", mem, 1, Buf + 8, 100));
        // A path that runs into unreadable memory before its NUL.
        Assert.Equal("openat(AT_FDCWD, 0x7ffd00001000, O_RDONLY)", X64.Entry("openat", mem, U(-100), Buf, 0));
        Assert.Equal("openat(AT_FDCWD, NULL, O_RDONLY)", X64.Entry("openat", mem, U(-100), 0, 0));
        Assert.Equal("openat(AT_FDCWD, 0xffffffffffffffff, O_RDONLY)", X64.Entry("openat", mem, U(-100), ulong.MaxValue, 0));
    }

    [Fact]
    public void Paths_are_not_cut_at_32_but_at_path_max()
    {
        var longName = new string('a', 50);
        var huge = new string('b', 5000);
        var mem = new FakeTargetMemory().PutString(Str, longName).PutString(Buf, huge);
        Assert.Equal($"unlink(\"{longName}\") = 0", X64.Full("unlink", mem, 0, Str));
        var text = X64.Entry("unlink", mem, Buf);
        Assert.Equal($"unlink(\"{new string('b', 4095)}\"...)", text);
        Assert.True(mem.LargestRead <= 4096, $"largest read {mem.LargestRead}");
    }

    [Fact]
    public void Mmap_family()
    {
        var mem = new FakeTargetMemory();
        Assert.Equal("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fe55277d000",
            X64.Full("mmap", mem, 0x7fe55277d000, 0, 8192, 3, 0x22, U(-1), 0));
        Assert.Equal("mmap(0x7fe55274c000, 110592, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x7000) = 0x7fe55274c000",
            X64.Full("mmap", mem, 0x7fe55274c000, 0x7fe55274c000, 110592, 5, 0x812, 3, 0x7000));
        Assert.Equal("mmap(0x10000, 4096, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, -1, 0) = -1 EINVAL (Invalid argument)",
            X64.Full("mmap", mem, -22, 0x10000, 4096, 1, 0x40032 | (21UL << 26), U(-1), 0));
        Assert.Equal("mmap(NULL, 38435, PROT_READ, MAP_SHARED, 3, 0) = 0x7fe552773000",
            X64.Full("mmap", mem, 0x7fe552773000, 0, 38435, 1, 1, 3, 0));
        Assert.Equal("mprotect(0x7ffc82ab1150, 0, PROT_NONE) = -1 EINVAL (Invalid argument)",
            X64.Full("mprotect", mem, -22, 0x7ffc82ab1150, 0, 0));
        Assert.Equal("mprotect(0x7ffc82ab1150, 0, 0x40 /* PROT_??? */) = -1 EINVAL (Invalid argument)",
            X64.Full("mprotect", mem, -22, 0x7ffc82ab1150, 0, 0x40));
        Assert.Equal("munmap(0x7fe552773000, 38435) = 0", X64.Full("munmap", mem, 0, 0x7fe552773000, 38435));
        Assert.Equal("brk(NULL) = 0x55dadc9b0000", X64.Full("brk", mem, 0x55dadc9b0000, 0));
        Assert.Equal("madvise(0x7ffc82ab1150, 4096, MADV_DONTNEED) = 0", X64.Full("madvise", mem, 0, 0x7ffc82ab1150, 4096, 4));
    }

    [Fact]
    public void Execve_prints_argv_and_counts_envp()
    {
        var mem = new FakeTargetMemory()
            .PutString(Str, "/bin/ls").PutString(Str + 0x10, "ls").PutString(Str + 0x20, "-la")
            .PutString(Str + 0x30, "PATH=/bin").PutString(Str + 0x40, "HOME=/root")
            .PutWords(Buf, 8, Str + 0x10, Str + 0x20, 0)
            .PutWords(Buf + 0x100, 8, Str + 0x30, Str + 0x40, 0);
        Assert.Equal("execve(\"/bin/ls\", [\"ls\", \"-la\"], 0x7ffd00001100 /* 2 vars */) = 0",
            X64.Full("execve", mem, 0, Str, Buf, Buf + 0x100));
        Assert.Equal("execve(\"/bin/ls\", [], 0x7ffd00001010 /* 0 vars */)", X64.Entry("execve", mem, Str, Buf + 0x10, Buf + 0x10));
        Assert.Equal("execve(\"/bin/ls\", 0x1234, 0x1234)", X64.Entry("execve", mem, Str, 0x1234, 0x1234));
    }

    [Fact]
    public void Argv_is_cut_after_32_elements_and_unterminated_arrays_stop()
    {
        var mem = new FakeTargetMemory().PutString(Str, "x");
        var pointers = Enumerable.Repeat(Str, 35).Append(0UL).ToArray();
        mem.PutWords(Buf, 8, pointers);
        var expected = "[" + string.Join(", ", Enumerable.Repeat("\"x\"", 32)) + ", ...]";
        Assert.Equal($"execve(\"x\", {expected}, 0x7ffd00001000 /* 35 vars */)", X64.Entry("execve", mem, Str, Buf, Buf));
        // Two readable elements, then unreadable memory: the pointer array ends with a comment.
        var short_ = new FakeTargetMemory().PutString(Str, "x").PutWords(Buf, 8, Str, Str);
        Assert.Equal("execve(\"x\", [\"x\", \"x\", ... /* 0x7ffd00001010 */], 0x7ffd00001000 /* 2 vars, unterminated */)",
            X64.Entry("execve", short_, Str, Buf, Buf));
    }

    [Fact]
    public void Envp_counting_is_capped()
    {
        var mem = new FakeTargetMemory();
        var pointers = Enumerable.Repeat(Str, 70_000).ToArray();
        mem.PutWords(Buf, 8, pointers).PutWords(Buf + 70_000 * 8, 8, 0);
        var text = X64.Entry("execve", mem, 0, 0, Buf);
        Assert.Equal("execve(NULL, NULL, 0x7ffd00001000 /* more than 65536 vars */)", text);
    }

    private static FakeTargetMemory StatMemory(ulong at, uint mode, ulong size, ulong rdev = 0)
    {
        var mem = new FakeTargetMemory().Zero(at, 144);
        mem.PutU32(at + 24, mode).PutU64(at + 40, rdev).PutU64(at + 48, size);
        return mem;
    }

    [Fact]
    public void Stat_structures_are_abbreviated()
    {
        var mem = StatMemory(Buf, 0x81a4, 38435).PutString(Str, "");
        Assert.Equal("newfstatat(3, \"\", {st_mode=S_IFREG|0644, st_size=38435, ...}, AT_EMPTY_PATH) = 0",
            X64.Full("newfstatat", mem, 0, 3, Str, Buf, 0x1000));
        var dev = StatMemory(Buf, 0x21b6, 0, rdev: 0x103).PutString(Str, "/dev/null");
        Assert.Equal("newfstatat(AT_FDCWD, \"/dev/null\", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0",
            X64.Full("newfstatat", dev, 0, U(-100), Str, Buf, 0));
        var setuid = StatMemory(Buf, 0x89ed, 1);
        Assert.Equal("fstat(3, {st_mode=S_IFREG|S_ISUID|0755, st_size=1, ...}) = 0", X64.Full("fstat", setuid, 0, 3, Buf));
        Assert.Equal("newfstatat(AT_FDCWD, \"/dev/null\", 0x7ffd00001000, 0) = -1 ENOENT (No such file or directory)",
            X64.Full("newfstatat", dev, -2, U(-100), Str, Buf, 0));
        // A struct that is not fully readable prints as its pointer.
        var partial = new FakeTargetMemory().Zero(Buf, 100);
        Assert.Equal("fstat(3, 0x7ffd00001000) = 0", X64.Full("fstat", partial, 0, 3, Buf));
    }

    [Fact]
    public void Statx_prints_mask_attributes_mode_and_size()
    {
        var mem = new FakeTargetMemory().Zero(Buf, 256).PutString(Str, "/etc/hostname");
        mem.PutU32(Buf, 0x17ff).PutU16(Buf + 28, 0x81ed).PutU64(Buf + 40, 3);
        Assert.Equal("statx(AT_FDCWD, \"/etc/hostname\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT, "
                     + "STATX_MODE|STATX_NLINK|STATX_UID|STATX_GID|STATX_MTIME|STATX_SIZE, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, "
                     + "stx_attributes=0, stx_mode=S_IFREG|0755, stx_size=3, ...}) = 0",
            X64.Full("statx", mem, 0, U(-100), Str, 0x900, 0x25e, Buf));
    }

    [Fact]
    public void Signal_calls()
    {
        var mem = new FakeTargetMemory().Zero(Buf, 32).Zero(Buf + 0x100, 32);
        // handler, flags, restorer, mask (all but RTMIN and RT_1)
        mem.PutU64(Buf, 0x55bfc24d3dc0).PutU64(Buf + 8, 0x04000000).PutU64(Buf + 16, 0x7f3622219050)
           .PutU64(Buf + 24, ~(3UL << 31));
        Assert.Equal("rt_sigaction(SIGCHLD, {sa_handler=0x55bfc24d3dc0, sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER, sa_restorer=0x7f3622219050}, NULL, 8) = 0",
            X64.Full("rt_sigaction", mem, 0, 17, Buf, 0, 8));
        Assert.Equal("rt_sigaction(SIGINT, NULL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0",
            X64.Full("rt_sigaction", mem, 0, 2, 0, Buf + 0x100, 8));
        mem.PutU64(Buf + 0x100, 1).PutU64(Buf + 0x108, 0x18000104);
        Assert.Equal("rt_sigaction(SIGUSR2, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_ONSTACK|SA_RESTART|SA_SIGINFO|0x100}, NULL, 8) = 0",
            X64.Full("rt_sigaction", mem, 0, 12, Buf + 0x100, 0, 8));
        var set = new FakeTargetMemory().PutU64(Buf, (1UL << 9) | (1UL << 36)).PutU64(Buf + 8, ~((1UL << 8) | (1UL << 18) | (3UL << 31)));
        Assert.Equal("rt_sigprocmask(SIG_BLOCK, [USR1 RT_5], NULL, 8) = 0", X64.Full("rt_sigprocmask", set, 0, 0, Buf, 0, 8));
        Assert.Equal("rt_sigprocmask(SIG_SETMASK, [], ~[KILL STOP RTMIN RT_1], 8) = 0",
            X64.Full("rt_sigprocmask", set.PutU64(Buf + 16, 0), 0, 2, Buf + 16, Buf + 8, 8));
        Assert.Equal("kill(16257, 0) = 0", X64.Full("kill", mem, 0, 16257, 0));
        Assert.Equal("kill(16259, SIGKILL) = ?", X64.Entry("kill", mem, 16259, 9) + " = " + SyscallDecoder.NoReturn);
    }

    [Fact]
    public void Wait_status_and_rusage()
    {
        var mem = new FakeTargetMemory().PutU32(Buf, 3 << 8).PutU32(Buf + 4, 9).Zero(Buf + 0x100, 144).PutU64(Buf + 0x108, 134);
        Assert.Equal("wait4(16258, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 16258",
            X64.Full("wait4", mem, 16258, 16258, Buf, 0, 0));
        Assert.Equal("wait4(16259, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], __WALL, {ru_utime={tv_sec=0, tv_usec=134}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 16259",
            X64.Full("wait4", mem, 16259, 16259, Buf + 4, 0x40000000, Buf + 0x100));
        Assert.Equal("wait4(-1, 0x7ffd00001000, WNOHANG, NULL) = -1 ECHILD (No child processes)",
            X64.Full("wait4", mem, -10, U(-1), Buf, 1, 0));
        mem.PutU32(Buf + 8, 0x137f).PutU32(Buf + 12, 0x8b);
        Assert.Equal("wait4(-1, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WUNTRACED, NULL) = 7", X64.Full("wait4", mem, 7, U(-1), Buf + 8, 2, 0));
        Assert.Equal("wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}], 0, NULL) = 7", X64.Full("wait4", mem, 7, U(-1), Buf + 12, 0, 0));
    }

    [Fact]
    public void Clone_fork_and_pipes()
    {
        var mem = new FakeTargetMemory().PutU32(Buf, 3).PutU32(Buf + 4, 4).PutU32(Buf + 8, 1235);
        Assert.Equal("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f36221daa10) = 11908",
            X64.Full("clone", mem, 11908, 0x1200011, 0, 0, 0x7f36221daa10, 0));
        Assert.Equal("clone(child_stack=0x7f0000001000, flags=CLONE_VM|CLONE_SETTLS|CLONE_PARENT_SETTID, parent_tid=[1235], tls=0x7f0000002000) = 1235",
            X64.Full("clone", mem, 1235, 0x180100, 0x7f0000001000, Buf + 8, 0, 0x7f0000002000));
        Assert.Equal("clone(child_stack=NULL, flags=SIGCHLD) = 5", X64.Full("clone", mem, 5, 17, 0, 0, 0, 0));
        Assert.Equal("pipe2([3, 4], 0) = 0", X64.Full("pipe2", mem, 0, Buf, 0));
        Assert.Equal("pipe2(0x7ffd00001000, O_CLOEXEC) = -1 EMFILE (Too many open files)", X64.Full("pipe2", mem, -24, Buf, 0x80000));
        Assert.Equal("dup3(5, 11, O_CLOEXEC) = 11", X64.Full("dup3", mem, 11, 5, 11, 0x80000));
        Assert.Equal("vfork() = 12022", X64.Full("vfork", mem, 12022));
    }

    [Fact]
    public void Clone3_prints_its_struct_and_the_tid_it_stored()
    {
        var mem = new FakeTargetMemory().Zero(Buf, 88).PutU32(Buf + 0x100, 4242);
        mem.PutU64(Buf, 0x3d0f00).PutU64(Buf + 16, 0x7f00000000a0).PutU64(Buf + 24, Buf + 0x100)
           .PutU64(Buf + 40, 0x7f0000000000).PutU64(Buf + 48, 0x7fff00).PutU64(Buf + 56, 0x7f0000000b00);
        var prefix = "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, "
                     + "child_tid=0x7f00000000a0, parent_tid=0x7ffd00001100, exit_signal=0, stack=0x7f0000000000, stack_size=0x7fff00, tls=0x7f0000000b00}";
        Assert.Equal(prefix + ", 88)", X64.Entry("clone3", mem, Buf, 88));
        Assert.Equal(prefix + " => {parent_tid=[4242]}, 88) = 4242", X64.Full("clone3", mem, 4242, Buf, 88));
    }

    [Fact]
    public void Resource_limits_and_system_information()
    {
        var mem = new FakeTargetMemory().PutU64(Buf, 8192 * 1024).PutU64(Buf + 8, ulong.MaxValue).PutU64(Buf + 16, 20000).PutU64(Buf + 24, 20000);
        Assert.Equal("prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0",
            X64.Full("prlimit64", mem, 0, 0, 3, 0, Buf));
        Assert.Equal("prlimit64(0, RLIMIT_CORE, {rlim_cur=20000, rlim_max=20000}, NULL) = 0",
            X64.Full("prlimit64", mem, 0, 0, 4, Buf + 16, 0));
        Assert.Equal("prlimit64(0, 0x63 /* RLIMIT_??? */, NULL, 0x7ffd00001000) = -1 EINVAL (Invalid argument)",
            X64.Full("prlimit64", mem, -22, 0, 99, 0, Buf));
        var uts = new FakeTargetMemory().Zero(Buf, 390).PutString(Buf, "Linux").PutString(Buf + 65, "vm");
        Assert.Equal("uname({sysname=\"Linux\", nodename=\"vm\", ...}) = 0", X64.Full("uname", uts, 0, Buf));
        var ts = new FakeTargetMemory().PutU64(Buf, 962).PutU64(Buf + 8, 337294899);
        Assert.Equal("clock_gettime(CLOCK_MONOTONIC, {tv_sec=962, tv_nsec=337294899}) = 0", X64.Full("clock_gettime", ts, 0, 1, Buf));
        Assert.Equal("clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=962, tv_nsec=337294899}, NULL) = 0",
            X64.Full("clock_nanosleep", ts, 0, 0, 0, Buf, 0));
        var tms = new FakeTargetMemory().Zero(Buf, 32).PutU64(Buf + 8, 2);
        Assert.Equal("times({tms_utime=0, tms_stime=2, tms_cutime=0, tms_cstime=0}) = 1718053126", X64.Full("times", tms, 1718053126, Buf));
        var info = new FakeTargetMemory().Zero(Buf, 112).PutU64(Buf, 963).PutU64(Buf + 8, 44992).PutU64(Buf + 32, 25276510208)
            .PutU16(Buf + 80, 88).PutU32(Buf + 104, 1);
        Assert.Equal("sysinfo({uptime=963, loads=[44992, 0, 0], totalram=25276510208, freeram=0, sharedram=0, bufferram=0, totalswap=0, freeswap=0, procs=88, totalhigh=0, freehigh=0, mem_unit=1}) = 0",
            X64.Full("sysinfo", info, 0, Buf));
    }

    [Fact]
    public void Getrandom_prints_hex_and_getcwd_readlink_print_what_the_kernel_returned()
    {
        var mem = new FakeTargetMemory().Put(Buf, [0x66, 0x58, 0xcc, 0x5c, 0xaa, 0xf1, 0xc3, 0xe3])
            .PutString(Str, "/tmp/abi").PutString(Str + 0x40, "/proc/self/exe").PutString(Str + 0x80, "/tmp/abi/t1XXXX", terminate: false);
        Assert.Equal("getrandom(\"\\x66\\x58\\xcc\\x5c\\xaa\\xf1\\xc3\\xe3\", 8, GRND_NONBLOCK) = 8", X64.Full("getrandom", mem, 8, Buf, 8, 1));
        Assert.Equal("getcwd(\"/tmp/abi\", 64) = 9", X64.Full("getcwd", mem, 9, Str, 64));
        Assert.Equal("readlink(\"/proc/self/exe\", \"/tmp/abi/t1\", 64) = 11", X64.Full("readlink", mem, 11, Str + 0x40, Str + 0x80, 64));
    }

    [Fact]
    public void Vectors_and_directories()
    {
        var mem = new FakeTargetMemory().PutString(Buf, "helloworld!", terminate: false)
            .PutWords(Str, 8, Buf, 5, Buf + 5, 5);
        Assert.Equal("readv(4, [{iov_base=\"hello\", iov_len=5}, {iov_base=\"world\", iov_len=5}], 2) = 10", X64.Full("readv", mem, 10, 4, Str, 2));
        Assert.Equal("readv(4, [{iov_base=\"hel\", iov_len=5}, {iov_base=\"\", iov_len=5}], 2) = 3", X64.Full("readv", mem, 3, 4, Str, 2));
        Assert.Equal("writev(5, [{iov_base=\"hello\", iov_len=5}, {iov_base=\"world\", iov_len=5}], 2)", X64.Entry("writev", mem, 5, Str, 2));
        // A hostile count: only 32 elements are shown and reading stops at unreadable memory.
        Assert.Equal("writev(5, [{iov_base=\"hello\", iov_len=5}, {iov_base=\"world\", iov_len=5}, ... /* 0x555500002020 */], 1152921504606846976)",
            X64.Entry("writev", mem, 5, Str, 1UL << 60));

        var dents = new FakeTargetMemory().Zero(Buf, 224);
        for (var i = 0; i < 8; i++)
            dents.PutU16(Buf + (ulong)(i * 28) + 16, 28);
        Assert.Equal("getdents64(3, 0x7ffd00001000 /* 8 entries */, 32768) = 224", X64.Full("getdents64", dents, 224, 3, Buf, 32768));
        Assert.Equal("getdents64(3, 0x7ffd00001000 /* 0 entries */, 32768) = 0", X64.Full("getdents64", dents, 0, 3, Buf, 32768));
        Assert.Equal("getdents64(12345, 0x7ffd00001000, 64) = -1 EBADF (Bad file descriptor)", X64.Full("getdents64", dents, -9, 12345, Buf, 64));
    }

    [Fact]
    public void Sockets()
    {
        var mem = new FakeTargetMemory().Zero(Buf, 110).PutU16(Buf, 1).PutString(Buf + 2, "/var/run/nscd/socket");
        Assert.Equal("socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3", X64.Full("socket", mem, 3, 1, 0x80801, 0));
        Assert.Equal("socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 6", X64.Full("socket", mem, 6, 2, 2, 0));
        Assert.Equal("socket(AF_INET6, SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP) = 7", X64.Full("socket", mem, 7, 10, 0x801, 6));
        Assert.Equal("connect(3, {sa_family=AF_UNIX, sun_path=\"/var/run/nscd/socket\"}, 110) = -1 ENOENT (No such file or directory)",
            X64.Full("connect", mem, -2, 3, Buf, 110));
        var inet = new FakeTargetMemory().Zero(Buf, 16).PutU16(Buf, 2).Put(Buf + 2, [0, 53, 8, 8, 4, 4]);
        Assert.Equal("connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\"8.8.4.4\")}, 16) = 0", X64.Full("connect", inet, 0, 3, Buf, 16));
        var inet6 = new FakeTargetMemory().Zero(Buf, 28).PutU16(Buf, 10).Put(Buf + 2, [1, 0xbb]).Put(Buf + 23, [1]);
        Assert.Equal("connect(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = 0",
            X64.Full("connect", inet6, 0, 3, Buf, 28));
        // recvfrom: data and the peer address are shown after the call, with the length the kernel stored.
        var recv = new FakeTargetMemory().PutString(Str, "pong", terminate: false).Zero(Buf, 16).PutU16(Buf, 2).Put(Buf + 2, [0x1f, 0x90, 127, 0, 0, 1]).PutU32(Buf + 0x40, 16);
        Assert.Equal("recvfrom(5, \"pong\", 512, 0, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 4",
            X64.Full("recvfrom", recv, 4, 5, Str, 512, 0, Buf, Buf + 0x40));
        Assert.Equal("sendto(5, \"pong\", 4, MSG_NOSIGNAL, NULL, 0) = 4", X64.Full("sendto", recv, 4, 5, Str, 4, 0x4000, 0, 0));
    }

    [Fact]
    public void Control_calls()
    {
        var mem = new FakeTargetMemory().PutU64(Buf, 0x7f4c14e7b740).Put(Buf + 8, [24, 0, 80, 0, 0, 0, 0, 0]).PutU32(Buf + 16, 42);
        Assert.Equal("arch_prctl(ARCH_SET_FS, 0x7fe5524c6800) = 0", X64.Full("arch_prctl", mem, 0, 0x1002, 0x7fe5524c6800));
        Assert.Equal("arch_prctl(ARCH_GET_FS, [0x7f4c14e7b740]) = 0", X64.Full("arch_prctl", mem, 0, 0x1003, Buf));
        Assert.Equal("arch_prctl(0x3001 /* ARCH_??? */, 0x7ffd00001000) = -1 EINVAL (Invalid argument)", X64.Full("arch_prctl", mem, -22, 0x3001, Buf));
        Assert.Equal("ioctl(1, TCGETS, 0x7fff8857fad0) = -1 ENOTTY (Inappropriate ioctl for device)", X64.Full("ioctl", mem, -25, 1, 0x5401, 0x7fff8857fad0));
        Assert.Equal("ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0", X64.Full("ioctl", mem, 0, 1, 0x5413, Buf + 8));
        Assert.Equal("ioctl(3, FIONREAD, [42]) = 0", X64.Full("ioctl", mem, 0, 3, 0x541b, Buf + 16));
        Assert.Equal("ioctl(3, _IOC(_IOC_READ|_IOC_WRITE, 0xae, 0x1, 0x8), 0x1234) = -1 ENOTTY (Inappropriate ioctl for device)",
            X64.Full("ioctl", mem, -25, 3, 0xc008ae01, 0x1234));
        Assert.Equal("fcntl(10, F_SETFD, FD_CLOEXEC) = 0", X64.Full("fcntl", mem, 0, 10, 2, 1));
        Assert.Equal("fcntl(10, F_GETFL) = 0 (flags O_RDONLY)", X64.Full("fcntl", mem, 0, 10, 3));
        Assert.Equal("fcntl(10, F_GETFL) = 0x8802 (flags O_RDWR|O_NONBLOCK|O_LARGEFILE)", X64.Full("fcntl", mem, 0x8802, 10, 3));
        Assert.Equal("fcntl(10, F_SETFL, O_RDONLY|O_NONBLOCK) = 0", X64.Full("fcntl", mem, 0, 10, 4, 0x800));
        Assert.Equal("fcntl(10, F_DUPFD_CLOEXEC, 20) = 20", X64.Full("fcntl", mem, 20, 10, 0x406, 20));
        Assert.Equal("fcntl(1, F_GETFD) = 0x1 (flags FD_CLOEXEC)", X64.Full("fcntl", mem, 1, 1, 1));
        Assert.Equal("lseek(3, -60, SEEK_CUR) = 54", X64.Full("lseek", mem, 54, 3, U(-60), 1));
        Assert.Equal("futex(0x7ffc82ab0dbc, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 1, NULL, FUTEX_BITSET_MATCH_ANY) = -1 EAGAIN (Resource temporarily unavailable)",
            X64.Full("futex", mem, -11, 0x7ffc82ab0dbc, 0x189, 1, 0, 0, 0xffffffff));
        Assert.Equal("futex(0x7fe552737a4c, FUTEX_WAKE_PRIVATE, 2147483647) = 0", X64.Full("futex", mem, 0, 0x7fe552737a4c, 0x81, 0x7fffffff));
        Assert.Equal("set_robust_list(0x7fe5524c6ae0, 24) = 0", X64.Full("set_robust_list", mem, 0, 0x7fe5524c6ae0, 24));
        Assert.Equal("rseq(0x7fe5524c7120, 0x20, 0, 0x53053053) = 0", X64.Full("rseq", mem, 0, 0x7fe5524c7120, 0x20, 0, 0x53053053));
        Assert.Equal("set_tid_address(0x7fe5524c6ad0) = 11901", X64.Full("set_tid_address", mem, 11901, 0x7fe5524c6ad0));
        Assert.Equal("access(\"/etc/ld.so.preload\", R_OK) = -1 ENOENT (No such file or directory)",
            X64.Full("access", new FakeTargetMemory().PutString(Str, "/etc/ld.so.preload"), -2, Str, 4));
        Assert.Equal("faccessat2(AT_FDCWD, \"/x\", X_OK, AT_EACCESS) = -1 ENOENT (No such file or directory)",
            X64.Full("faccessat2", new FakeTargetMemory().PutString(Str, "/x"), -2, U(-100), Str, 1, 0x200));
        Assert.Equal("umask(022) = 022", X64.Full("umask", mem, 0x12, 0x12));
        Assert.Equal("exit_group(0) = ?", X64.Full("exit_group", mem, 0, 0));
        Assert.Equal("getpid() = 16257", X64.Full("getpid", mem, 16257));
        Assert.Equal("ptrace(PTRACE_TRACEME) = -1 EPERM (Operation not permitted)", X64.Full("ptrace", mem, -1, 0, 0, 0, 0));
        Assert.Equal("prctl(PR_SET_NAME, \"evil\") = 0", X64.Full("prctl", new FakeTargetMemory().PutString(Str, "evil"), 0, 15, Str));
        Assert.Equal("memfd_create(\"payload\", MFD_CLOEXEC) = 3", X64.Full("memfd_create", new FakeTargetMemory().PutString(Str, "payload"), 3, Str, 1));
    }

    [Fact]
    public void Calls_ls_id_and_cat_make_besides_the_common_ones()
    {
        var mem = new FakeTargetMemory().Zero(Buf, 32).Put(Buf, [3]).PutU32(Buf + 0x40, 0).PutU32(Buf + 0x44, 27);
        Assert.Equal("sched_getaffinity(0, 512, [0 1]) = 32", X64.Full("sched_getaffinity", mem, 32, 0, 512, Buf));
        Assert.Equal("getgroups(0, NULL) = 2", X64.Full("getgroups", mem, 2, 0, 0));
        Assert.Equal("getgroups(2, [0, 27]) = 2", X64.Full("getgroups", mem, 2, 2, Buf + 0x40));
        Assert.Equal("fadvise64(3, 0, 0, POSIX_FADV_SEQUENTIAL) = 0", X64.Full("fadvise64", mem, 0, 3, 0, 0, 2));
    }

    [Fact]
    public void Return_values()
    {
        var d = X64;
        Assert.Equal("3", d.FormatReturn(d.Nr("openat"), 3));
        Assert.Equal("-1 ENOENT (No such file or directory)", d.FormatReturn(d.Nr("openat"), -2));
        Assert.Equal("-1 (errno 4000)", d.FormatReturn(d.Nr("openat"), -4000));
        Assert.Equal("-4096", d.FormatReturn(d.Nr("lseek"), -4096));
        Assert.Equal("0x7fe552773000", d.FormatReturn(d.Nr("mmap"), 0x7fe552773000));
        Assert.Equal("-1 ENOMEM (Cannot allocate memory)", d.FormatReturn(d.Nr("mmap"), -12));
        Assert.Equal("0x55dadc9d1000", d.FormatReturn(d.Nr("brk"), 0x55dadc9d1000));
        Assert.Equal("?", d.FormatReturn(d.Nr("exit_group"), 0));
        Assert.Equal("?", d.FormatReturn(d.Nr("exit"), 0));
        Assert.Equal("? ERESTARTSYS (To be restarted if SA_RESTART is set)", d.FormatReturn(d.Nr("read"), -512));
        Assert.Equal("? ERESTART_RESTARTBLOCK (Interrupted by signal)", d.FormatReturn(d.Nr("nanosleep"), -516));
        Assert.Equal("022", d.FormatReturn(d.Nr("umask"), 0x12));
        Assert.Equal("0", d.FormatReturn(d.Nr("close"), 0));
        Assert.Equal("12345", d.FormatReturn(9999, 12345));
    }

    [Fact]
    public void Unknown_calls_fall_back_to_raw_hex()
    {
        var mem = new FakeTargetMemory();
        Assert.Equal(["0x1", "0x2", "0x3", "0", "0", "0xa2"], X64.DecodeEntry(999, [1, 2, 3, 0, 0, 0xa2], mem));
        Assert.Equal("-1 ENOSYS (Function not implemented)", X64.FormatReturn(999, -38));
        Assert.Null(X64.DecodeExit(999, [1, 2, 3, 0, 0, 0xa2], -38, mem));
        Assert.Equal("syscall_999", X64.Name(999));
        // Fewer than six arguments given: the rest read as zero.
        Assert.Equal(["0x1", "0", "0", "0", "0", "0"], X64.DecodeEntry(-5, [1], mem));
    }

    [Fact]
    public void Exit_rendering_is_null_when_nothing_changes()
    {
        var mem = new FakeTargetMemory();
        Assert.Null(X64.DecodeExit(X64.Nr("close"), [3], 0, mem));
        Assert.Null(X64.DecodeExit(X64.Nr("write"), [1, Buf, 3], 3, mem));
        Assert.Null(X64.DecodeExit(X64.Nr("fstat"), [3, Buf], -9, mem));
        Assert.NotNull(X64.DecodeExit(X64.Nr("fstat"), [3, Buf], 0, mem)); // success: the struct (here unreadable, so the pointer)
    }

    [Fact]
    public void Other_abis_have_no_decoder()
    {
        var error = Assert.Throws<ArgumentException>(() => SyscallDecoder.For("nt-winxp-sp2-x86"));
        Assert.Contains("no argument decoder for system-call ABI 'nt-winxp-sp2-x86'", error.Message);
    }
}
