namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// How one printed argument is rendered. "Out" kinds are filled by the kernel: before the call and
/// after a failed call they print as the pointer; after a successful call they print the contents.
/// </summary>
internal enum ArgKind : byte
{
    // Numbers
    Int,            // int, decimal
    UInt,           // unsigned int, decimal
    Long,           // long / off_t, decimal
    ULong,          // unsigned long / size_t, decimal
    Hex,            // unsigned long in hex (0 as "0")
    Addr,           // pointer: NULL or 0x...
    Fd,             // file descriptor
    DirFd,          // AT_FDCWD or a descriptor
    Mode,           // permission bits in octal
    Signal,         // SIGxxx or the number
    PageOffset,     // mmap2's offset in pages, printed as bytes in hex
    LlseekOffset,   // _llseek's offset from its high (Index) and low (Index + 1) halves

    // Strings and buffers
    FilePath,       // NUL-terminated path, up to PATH_MAX
    Str,            // NUL-terminated string, cut at 32 bytes
    InBuf,          // buffer of Aux-argument bytes, cut at 32
    OutBuf,         // buffer the kernel filled with `ret` bytes (read, recvfrom, readlink, getxattr)
    OutBufHex,      // same, every byte in \x form (getrandom)
    OutCwd,         // getcwd: a NUL-terminated path of `ret` bytes
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
    TimerFlags,
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
    RlimitIn,
    Rlimit64In,
    SigsetIn,       // sigset of Aux-argument bytes
    SigactionIn,
    SockaddrIn,     // length in Aux
    MsghdrIn,
    SockoptValIn,   // length in Aux
    PollFds,        // count in Aux
    Clone3Args,     // struct clone_args; after the call also " => {parent_tid=[N]}"

    // Structures the kernel fills
    StatOut,
    Stat64Out,
    StatxOut,
    UtsnameOut,
    TimespecOut,
    Timespec64Out,
    TimespecRem,    // nanosleep's remaining time: filled only when interrupted
    TimevalOut,
    RlimitOut,
    Rlimit64Out,
    RusageOut,      // getrusage's struct rusage
    WaitRusageOut,  // wait4's struct rusage: filled when a child was reaped (ret > 0)
    WaitStatusOut,  // wait4/waitpid status: filled when ret > 0
    PipeFds,        // int[2]
    LoffOut,        // _llseek's result: [N]
    SysinfoOut,
    TmsOut,
    DirentsOut,     // getdents: pointer /* N entries */
    Dirents64Out,   // getdents64: pointer /* N entries */
    SigsetOut,      // size in Aux
    SigactionOut,
    SockaddrOut,    // its length pointer in Aux
    SocklenOut,     // [N]
    MsghdrOut,
    SockoptValOut,  // length pointer in Aux
    GidsOut,        // getgroups' list: ret 32-bit ids
    Gids16Out,      // i386 getgroups' list: ret 16-bit ids
    CpuSetOut,      // sched_getaffinity's mask: ret bytes
}
