namespace Ether.Replay.Formats.Abi;

/// <summary>What an argument means to the analyses that ask the table about files, processes and time.</summary>
public enum SyscallArgRole : byte
{
    None,

    /// <summary>
    /// What the call acts on: the descriptor it reads, writes, truncates or maps, the path (with its
    /// <see cref="SyscallArgKind.DirFd"/>) it opens or executes, the new name of rename/link, the
    /// process it signals or attaches to.
    /// </summary>
    Target,

    /// <summary>Where data or a name comes from: the input descriptor of sendfile/splice/tee/copy_file_range, the old name of rename/link.</summary>
    Source,

    /// <summary>How long the call may wait or when a timer fires: a sleep's duration, a poll/select/epoll timeout, a timer's new value, alarm's seconds.</summary>
    Timeout,

    /// <summary>Where in the Target file the call reads, writes or maps (pread64, pwritev, mmap...): see <see cref="LinuxSyscallTable.Offset"/>.</summary>
    Offset,
}

/// <summary>
/// One argument of a call: its kind, which raw argument (register) it reads, a helper argument
/// (a buffer's length, the flags that decide whether it prints, ...; -1 for none) and its role.
/// </summary>
public readonly record struct SyscallArg(SyscallArgKind Kind, sbyte Index = -1, sbyte Aux = -1, SyscallArgRole Role = SyscallArgRole.None)
{
    public static implicit operator SyscallArg(SyscallArgKind kind) => new(kind);
}
