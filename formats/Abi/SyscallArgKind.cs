namespace Ether.Replay.Formats.Abi;

/// <summary>
/// What one argument of a Linux system call is: its C type as the strace-style decoder prints it,
/// and, for pointers the kernel writes through ("Out" and "InOut" kinds), what it writes there.
/// Sizes that differ between x86-64 and i386 (struct stat, timespec, ...) follow the caller's ABI.
/// The decoder's renderer and the kernel write set's size rule each have one case per kind
/// (recorder/Syscalls); <see cref="SyscallArgKinds.KernelWrites"/> says which kinds are written.
/// </summary>
/// <remarks>
/// A few output kinds print as the bare pointer (as they always did here; strace shows their
/// contents): <see cref="StatfsOut"/>, <see cref="TimezoneOut"/>, <see cref="ItimervalOut"/>,
/// <see cref="OffInOut"/>, <see cref="LoffInOut"/>, <see cref="MincoreOut"/>, <see cref="RseqArea"/>.
/// Their kind still says what the kernel writes.
/// </remarks>
public enum SyscallArgKind : byte
{
    // Numbers
    Int,            // int, decimal
    UInt,           // unsigned int, decimal
    Long,           // long / off_t, decimal
    ULong,          // unsigned long / size_t, decimal
    Hex,            // unsigned long in hex (0 as "0")
    Addr,           // pointer: NULL or 0x...
    Fd,             // file descriptor
    DirFd,          // AT_FDCWD or a descriptor (a path argument is relative to it)
    Pid,            // process or thread id (pid_t), decimal; negative ids name process groups
    Mode,           // permission bits in octal
    Signal,         // SIGxxx or the number
    PageOffset,     // mmap2's offset in pages, printed as bytes in hex
    LlseekOffset,   // _llseek's offset from its high (Index) and low (Index + 1) halves
    Loff,           // loff_t file offset: one register on x86-64, low (Index) and high (Index + 1) halves on i386
    Seconds,        // unsigned int seconds (alarm)
    TimeoutMs,      // int milliseconds, -1 = forever (poll, epoll_wait)

    // Strings and buffers
    FilePath,       // NUL-terminated path, up to PATH_MAX
    Str,            // NUL-terminated string, cut at 32 bytes
    InBuf,          // buffer of Aux-argument bytes, cut at 32
    OutBuf,         // buffer the kernel filled: min(ret, Aux argument) bytes (read, recvfrom, readlink, getxattr)
    OutBufHex,      // same, every byte in \x form (getrandom)
    OutCwd,         // getcwd: a NUL-terminated path of min(ret, Aux argument) bytes
    InIovec,        // iovec array, count in Aux, data shown from each iov_len
    OutIovec,       // iovec array, count in Aux, `ret` bytes of data spread over the iovecs
    Argv,           // execve argv: ["a", "b", ...]
    Envp,           // execve envp: pointer and /* N vars */

    // Flags and named values
    OpenFlags,      // access mode | O_* flags
    OpenMode,       // printed only when the flags (Aux) have O_CREAT or O_TMPFILE
    OFlags,         // O_* flags without an access mode (dup3, pipe2)
    AtFlags,
    FaccessatFlags,
    AccessMode,
    Prot,
    MapFlags,
    MremapFlags,
    MremapNewAddr,  // printed only with MREMAP_FIXED (Aux = flags)
    MsyncFlags,
    Madvise,
    Whence,
    RlimitResource,
    RusageWho,
    ClockId,
    TimerFlags,     // TIMER_ABSTIME: a Timeout argument beside it is a deadline, not a duration
    GrndFlags,
    MemfdFlags,
    FlockOp,
    SigprocmaskHow,
    WaitOptions,
    StatxFlags,
    StatxMask,
    SocketFamily,
    SocketType,
    SocketProtocol, // IPPROTO_* for AF_INET/AF_INET6 (Aux = family), else the number
    SocketTypeFlags,
    MsgFlags,
    ShutdownHow,
    SockoptLevel,
    SockoptName,    // SO_* when the level (Aux) is SOL_SOCKET
    ItimerWhich,
    PtraceRequest,
    PrctlOption,
    FadviseAdvice,
    CpuSetIn,       // CPU mask of Aux-argument bytes: [0 1 3]

    // Structures passed in
    TimespecIn,
    Timespec64In,
    TimevalIn,
    ItimervalIn,    // struct itimerval (setitimer's new value), printed as the pointer
    ItimerspecIn,   // struct itimerspec (timer_settime, timerfd_settime)
    Itimerspec64In, // struct __kernel_itimerspec (the i386 *_time64 timer calls)
    RlimitIn,
    Rlimit64In,
    SigsetIn,       // sigset of Aux-argument bytes
    SigactionIn,
    StackIn,        // stack_t (sigaltstack)
    SockaddrIn,     // length in Aux
    MsghdrIn,
    SockoptValIn,   // length in Aux
    OpenHowIn,      // struct open_how (openat2): flags, mode, resolve
    PollFds,        // struct pollfd array, count in Aux; the kernel writes each revents
    Clone3Args,     // struct clone_args; after the call also " => {parent_tid=[N]}"

    // Structures the kernel fills
    StatOut,
    Stat64Out,
    StatxOut,
    StatfsOut,      // struct statfs, printed as the pointer
    Statfs64Out,    // i386 struct statfs64
    UtsnameOut,
    TimespecOut,
    Timespec64Out,
    TimespecRem,    // nanosleep's remaining time: filled only when interrupted (and not TIMER_ABSTIME)
    Timespec64Rem,
    TimevalOut,
    TimezoneOut,    // struct timezone of gettimeofday, printed as the pointer
    TimeOut,        // time_t (time)
    ItimervalOut,   // struct itimerval (getitimer, setitimer's old value), printed as the pointer
    ItimerspecOut,  // struct itimerspec (timer_gettime, the old value of timer_settime)
    Itimerspec64Out,
    RlimitOut,
    Rlimit64Out,
    RusageOut,      // getrusage's struct rusage
    WaitRusageOut,  // wait4's struct rusage: filled when a child was reaped (ret > 0)
    WaitStatusOut,  // wait4/waitpid status: filled when ret > 0
    SiginfoOut,     // siginfo_t (waitid, rt_sigtimedwait)
    PipeFds,        // int[2]
    LoffOut,        // _llseek's result: [N]
    OffInOut,       // off_t * the call reads and advances (sendfile), printed as the pointer
    LoffInOut,      // loff_t * the call reads and advances (sendfile64, splice, copy_file_range)
    SysinfoOut,
    TmsOut,
    DirentsOut,     // getdents: pointer /* N entries */; min(ret, the next argument) bytes
    Dirents64Out,   // getdents64: pointer /* N entries */
    SigsetOut,      // size in Aux
    SigactionOut,
    StackOut,       // stack_t (sigaltstack's old stack)
    SockaddrOut,    // its length pointer in Aux; the kernel writes both
    SocklenOut,     // [N]: written together with the sockaddr or option value before it
    MsghdrOut,
    MmsghdrOut,     // struct mmsghdr array (recvmmsg): `ret` messages received
    MmsghdrSent,    // struct mmsghdr array (sendmmsg), count in Aux: the kernel writes msg_len of the `ret` messages sent
    IoEventsOut,    // struct io_event array (io_getevents): `ret` events of 32 bytes
    SockoptValOut,  // length pointer in Aux; the kernel writes both
    GidsOut,        // getgroups' list: ret gid_t of the caller's ABI (x86-64: 32-bit, i386: the old 16-bit ids)
    Gids32Out,      // i386 getgroups32's list: ret 32-bit ids
    IdOut,          // one uid_t/gid_t of the caller's ABI (getresuid: x86-64 32-bit, i386 16-bit)
    Id32Out,        // one 32-bit id (i386 getresuid32)
    CpuSetOut,      // sched_getaffinity's mask: ret bytes
    EpollEventsOut, // struct epoll_event array: ret entries of 12 bytes
    FdSet,          // fd_set the kernel reads and rewrites; its size follows nfds (argument 0)
    TimevalInOut,   // select's timeout: read, then the time left written back
    TimespecInOut,  // pselect6's timeout
    Timespec64InOut,
    MincoreOut,     // mincore's vector: one byte per page of the length argument (Aux), printed as the pointer
    RseqArea,       // struct rseq registered by rseq (length in Aux), printed as the pointer
    WordOut,        // one unsigned long / pointer (get_robust_list)
    U32Out,         // one 32-bit value (getcpu)
}

/// <summary>Facts about argument kinds that every consumer of the table needs.</summary>
public static class SyscallArgKinds
{
    /// <summary>
    /// True when the kernel may write user memory through an argument of this kind (its size rule is
    /// in the recorder's kernel write set). Not for <see cref="SyscallArgKind.SocklenOut"/>, which is
    /// written together with the sockaddr or option value before it.
    /// </summary>
    public static bool KernelWrites(SyscallArgKind kind) => kind >= SyscallArgKind.StatOut && kind != SyscallArgKind.SocklenOut
        || kind is SyscallArgKind.OutBuf or SyscallArgKind.OutBufHex or SyscallArgKind.OutCwd or SyscallArgKind.OutIovec
            or SyscallArgKind.PollFds or SyscallArgKind.Clone3Args;

    /// <summary>A descriptor argument (<see cref="SyscallArgKind.Fd"/> or a <see cref="SyscallArgKind.DirFd"/> paths are relative to).</summary>
    public static bool IsDescriptor(SyscallArgKind kind) => kind is SyscallArgKind.Fd or SyscallArgKind.DirFd;
}
