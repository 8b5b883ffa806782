namespace Ether.Replay.Formats.Abi;

/// <summary>How a call's return value prints (strace's way).</summary>
public enum SyscallReturn : byte
{
    Decimal,
    Hex,        // addresses: mmap, brk, mremap, shmat
    Octal,      // umask
    None,       // exit, exit_group: the call does not return ("?")
    Fcntl,      // hex with "(flags ...)" for F_GETFL/F_GETFD
}

/// <summary>How the decoder prints a call's arguments.</summary>
public enum SyscallText : byte
{
    /// <summary>From the row's argument kinds.</summary>
    Args,
    /// <summary>Six raw words in hex: no renderer yet (the argument kinds are still right for the write set and the roles).</summary>
    Raw,
    /// <summary>By code in the decoder (recorder/Syscalls/DecoderInternal/CustomCalls.cs): the arguments depend on each other too much for a list.</summary>
    Custom,
}

/// <summary>
/// One Linux system call: its name (the numbers come from the generated tables), what it is
/// (category, traits), its arguments (kind, role, output size rule by kind) and how strace prints
/// it. The decoder, the kernel write set, map-change and exec detection and the analyses all read
/// these rows (<see cref="LinuxSyscalls"/>); only calls marked Custom keep code of their own.
/// </summary>
public sealed record LinuxSyscall
{
    private readonly SyscallArg[] _args = [];

    public required string Name { get; init; }
    public SyscallCategory Category { get; init; }
    public SyscallTraits Traits { get; init; }
    public SyscallReturn Return { get; init; }
    public SyscallText Text { get; init; }

    /// <summary>The memory the kernel writes depends on an operation code: written by code (recorder/Syscalls/DecoderInternal/KernelWriteRules.cs).</summary>
    public bool CustomWrites { get; init; }

    /// <summary>The one ABI this row is for, when the call differs between ABIs (i386's old mmap and select take their arguments from memory); null for every ABI that has the name.</summary>
    public string? OnlyAbi { get; init; }

    /// <summary>The arguments in printed order, each with the raw argument it reads and its helper argument filled in.</summary>
    public IReadOnlyList<SyscallArg> Args
    {
        get => _args;
        init => _args = Normalize(value);
    }

    /// <summary>True when the call has any of <paramref name="traits"/>.</summary>
    public bool Has(SyscallTraits traits) => (Traits & traits) != 0;

    /// <summary>The raw argument index of the first argument of <paramref name="kind"/> (with <paramref name="role"/> if given), or -1.</summary>
    public int IndexOf(SyscallArgKind kind, SyscallArgRole? role = null)
    {
        foreach (var arg in _args)
            if (arg.Kind == kind && (role is null || arg.Role == role))
                return arg.Index;
        return -1;
    }

    /// <summary>The first argument with <paramref name="role"/>, if any (its kind says its type: Fd, FilePath, TimespecIn, TimeoutMs...).</summary>
    public SyscallArg? Find(SyscallArgRole role)
    {
        foreach (var arg in _args)
            if (arg.Role == role)
                return arg;
        return null;
    }

    /// <summary>The descriptor the call acts on (read, write, mmap, ftruncate...), or -1.</summary>
    public int TargetFd => IndexOf(SyscallArgKind.Fd, SyscallArgRole.Target);
    /// <summary>The path the call acts on (open, execve, the new name of rename), or -1; relative to <see cref="TargetDirFd"/> when there is one.</summary>
    public int TargetPath => IndexOf(SyscallArgKind.FilePath, SyscallArgRole.Target);
    public int TargetDirFd => IndexOf(SyscallArgKind.DirFd, SyscallArgRole.Target);
    /// <summary>The input descriptor of a copy (sendfile, splice, tee, copy_file_range), or -1.</summary>
    public int SourceFd => IndexOf(SyscallArgKind.Fd, SyscallArgRole.Source);
    /// <summary>The old name of rename/link, or -1; relative to <see cref="SourceDirFd"/> when there is one.</summary>
    public int SourcePath => IndexOf(SyscallArgKind.FilePath, SyscallArgRole.Source);
    public int SourceDirFd => IndexOf(SyscallArgKind.DirFd, SyscallArgRole.Source);
    /// <summary>The process a signal or a ptrace/process_vm_* call reaches, or -1.</summary>
    public int TargetPid => IndexOf(SyscallArgKind.Pid, SyscallArgRole.Target);
    /// <summary>The call's timeout, sleep or timer value (its kind says the type and unit), or null.</summary>
    public SyscallArg? Timeout => Find(SyscallArgRole.Timeout);

    /// <summary>Arguments without an explicit index read the raw argument at their position; helper arguments default by kind.</summary>
    private static SyscallArg[] Normalize(IReadOnlyList<SyscallArg> args)
    {
        var normalized = new SyscallArg[args.Count];
        for (var i = 0; i < args.Count; i++)
        {
            var index = args[i].Index < 0 ? (sbyte)i : args[i].Index;
            var aux = args[i].Aux < 0 ? DefaultAux(args[i].Kind, index) : args[i].Aux;
            normalized[i] = args[i] with { Index = index, Aux = aux };
        }
        return normalized;
    }

    private static sbyte DefaultAux(SyscallArgKind kind, sbyte index) => kind switch
    {
        // Length (or count, or length pointer) follows the buffer.
        SyscallArgKind.InBuf or SyscallArgKind.OutBuf or SyscallArgKind.OutBufHex or SyscallArgKind.OutCwd
            or SyscallArgKind.InIovec or SyscallArgKind.OutIovec or SyscallArgKind.SockaddrIn or SyscallArgKind.SockaddrOut
            or SyscallArgKind.SockoptValIn or SyscallArgKind.SockoptValOut or SyscallArgKind.PollFds
            or SyscallArgKind.DirentsOut or SyscallArgKind.Dirents64Out or SyscallArgKind.MmsghdrSent or SyscallArgKind.MmsghdrOut
            or SyscallArgKind.EpollEventsOut or SyscallArgKind.RseqArea => (sbyte)(index + 1),
        // The thing that decides whether/how to print precedes it.
        SyscallArgKind.OpenMode or SyscallArgKind.SockoptName or SyscallArgKind.GidsOut or SyscallArgKind.Gids32Out => (sbyte)(index - 1),
        // socket(family, type, protocol): the protocol's meaning depends on the family.
        SyscallArgKind.SocketProtocol => (sbyte)(index - 2),
        // select's fd_sets are as long as nfds, the first argument.
        SyscallArgKind.FdSet => 0,
        _ => -1,
    };
}
