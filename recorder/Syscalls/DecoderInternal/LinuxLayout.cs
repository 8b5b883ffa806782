namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// What differs between a 64-bit (x86-64) and a 32-bit (i386) Linux process for argument
/// decoding: the width of a register argument and the size and layout of the kernel structures
/// the calls fill in (sizes from the kernel's x86 UAPI definitions; comments give the struct).
/// </summary>
internal sealed class LinuxLayout
{
    public static readonly LinuxLayout X86_64 = new(is64: true);
    public static readonly LinuxLayout I386 = new(is64: false);

    private LinuxLayout(bool is64) => Is64 = is64;

    public bool Is64 { get; }
    public int WordSize => Is64 ? 8 : 4;

    /// <summary>An argument register as the kernel sees an unsigned long / pointer.</summary>
    public ulong Word(ulong raw) => Is64 ? raw : raw & 0xffff_ffff;

    /// <summary>An argument register as a signed long (off_t, ssize_t on this ABI).</summary>
    public long SignedWord(ulong raw) => Is64 ? (long)raw : (int)(uint)raw;

    /// <summary>A return register: i386 returns in eax, which a 64-bit tracer may see zero-extended.</summary>
    public long Return(long raw) => Is64 ? raw : (int)(uint)(ulong)raw;

    /// <summary>uid_t/gid_t of the unsuffixed id calls (getgroups, getresuid): 32-bit on x86-64, the old 16-bit ids on i386.</summary>
    public int IdSize => Is64 ? 4 : 2;

    /// <summary>struct stat of stat/fstat/lstat/newfstatat (x86-64: 144; i386 newstat: 64).</summary>
    public int StatSize => Is64 ? 144 : 64;
    /// <summary>i386 struct stat64 (stat64/fstat64/lstat64/fstatat64), packed.</summary>
    public const int Stat64Size = 96;
    public const int StatxSize = 256;
    /// <summary>struct new_utsname: six fields of 65 bytes.</summary>
    public const int UtsnameSize = 390;
    public const int SiginfoSize = 128;
    /// <summary>struct rlimit64 of prlimit64.</summary>
    public const int Rlimit64Size = 16;
    /// <summary>struct __kernel_timespec of the *_time64 calls.</summary>
    public const int Timespec64Size = 16;
    /// <summary>Largest socket address (struct sockaddr_storage).</summary>
    public const int SockaddrMax = 128;

    /// <summary>struct timespec with native longs.</summary>
    public int TimespecSize => Is64 ? 16 : 8;
    public int TimevalSize => Is64 ? 16 : 8;
    public int IovecSize => Is64 ? 16 : 8;
    /// <summary>The kernel's struct sigaction for rt_sigaction: handler, flags, restorer, 8-byte mask.</summary>
    public int SigactionSize => Is64 ? 32 : 20;
    public int RusageSize => Is64 ? 144 : 72;
    public int SysinfoSize => Is64 ? 112 : 64;
    public int TmsSize => Is64 ? 32 : 16;
    /// <summary>struct rlimit of getrlimit/ugetrlimit (two longs).</summary>
    public int RlimitSize => Is64 ? 16 : 8;
    /// <summary>struct user_msghdr.</summary>
    public int MsghdrSize => Is64 ? 56 : 28;
    /// <summary>struct mmsghdr: a msghdr and the received length.</summary>
    public int MmsghdrSize => Is64 ? 64 : 32;
    public int StackTSize => Is64 ? 24 : 12;
    public int ItimervalSize => Is64 ? 32 : 16;
    public int ItimerspecSize => Is64 ? 32 : 16;
    public int StatfsSize => Is64 ? 120 : 64;
    /// <summary>i386 struct statfs64 (statfs64/fstatfs64), packed.</summary>
    public const int Statfs64Size = 84;
    /// <summary>struct user_regs_struct (PTRACE_GETREGS).</summary>
    public int UserRegsSize => Is64 ? 216 : 68;
    /// <summary>struct user_fpregs_struct / user_i387_struct (PTRACE_GETFPREGS).</summary>
    public int UserFpregsSize => Is64 ? 512 : 108;

    // Offsets in struct user_msghdr.
    public int MsgNameOffset => 0;
    public int MsgNamelenOffset => Is64 ? 8 : 4;
    public int MsgIovOffset => Is64 ? 16 : 8;
    public int MsgIovlenOffset => Is64 ? 24 : 12;
    public int MsgControlOffset => Is64 ? 32 : 16;
    public int MsgControllenOffset => Is64 ? 40 : 20;
    public int MsgFlagsOffset => Is64 ? 48 : 24;
}
