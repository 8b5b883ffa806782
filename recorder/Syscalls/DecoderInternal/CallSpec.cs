namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>How a call's return value prints.</summary>
internal enum ReturnStyle : byte
{
    Decimal,
    Hex,        // addresses: mmap, brk, mremap
    Octal,      // umask
    None,       // exit, exit_group: the call does not return ("?")
    Fcntl,      // hex with "(flags ...)" for F_GETFL/F_GETFD
}

/// <summary>One printed argument: its kind, which raw argument it reads, and a helper argument.</summary>
internal readonly record struct ArgSpec(ArgKind Kind, sbyte Index = -1, sbyte Aux = -1)
{
    public static implicit operator ArgSpec(ArgKind kind) => new(kind);
}

/// <summary>Renders a call whose arguments depend on each other too much for a list of kinds.</summary>
internal delegate void CustomRenderer(ref CallContext context, List<string> output);

/// <summary>How strace prints one system call: its arguments in order and its return value.</summary>
internal sealed class CallSpec
{
    public CallSpec(string name, ReturnStyle ret, ArgSpec[] args, CustomRenderer? custom = null, bool customHasOutput = false)
    {
        Name = name;
        Return = ret;
        Custom = custom;
        // Arguments without an explicit index read the raw argument at their position.
        Args = new ArgSpec[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            var index = args[i].Index < 0 ? (sbyte)i : args[i].Index;
            var aux = args[i].Aux < 0 ? DefaultAux(args[i].Kind, index) : args[i].Aux;
            Args[i] = new ArgSpec(args[i].Kind, index, aux);
        }
        HasOutput = customHasOutput || Args.Any(a => IsOutput(a.Kind));
    }

    public string Name { get; }
    public ReturnStyle Return { get; }
    public ArgSpec[] Args { get; }
    public CustomRenderer? Custom { get; }

    /// <summary>True when something prints differently after the call.</summary>
    public bool HasOutput { get; }

    private static sbyte DefaultAux(ArgKind kind, sbyte index) => kind switch
    {
        // Length (or count, or length pointer) follows the buffer.
        ArgKind.InBuf or ArgKind.OutBuf or ArgKind.OutBufHex or ArgKind.InIovec or ArgKind.OutIovec
            or ArgKind.SockaddrIn or ArgKind.SockaddrOut or ArgKind.SockoptValIn or ArgKind.SockoptValOut
            or ArgKind.PollFds => (sbyte)(index + 1),
        // The thing that decides whether/how to print precedes it.
        ArgKind.OpenMode or ArgKind.SockoptName => (sbyte)(index - 1),
        // socket(family, type, protocol): the protocol's meaning depends on the family.
        ArgKind.SocketProtocol => (sbyte)(index - 2),
        _ => -1,
    };

    public static bool IsOutput(ArgKind kind) => kind is ArgKind.OutBuf or ArgKind.OutBufHex or ArgKind.OutCwd
        or ArgKind.OutIovec or ArgKind.StatOut or ArgKind.Stat64Out or ArgKind.StatxOut or ArgKind.UtsnameOut
        or ArgKind.TimespecOut or ArgKind.Timespec64Out or ArgKind.TimespecRem or ArgKind.TimevalOut
        or ArgKind.RlimitOut or ArgKind.Rlimit64Out or ArgKind.RusageOut or ArgKind.WaitRusageOut or ArgKind.WaitStatusOut
        or ArgKind.PipeFds or ArgKind.LoffOut or ArgKind.SysinfoOut or ArgKind.TmsOut or ArgKind.DirentsOut or ArgKind.Dirents64Out
        or ArgKind.SigsetOut or ArgKind.SigactionOut or ArgKind.SockaddrOut or ArgKind.SocklenOut
        or ArgKind.MsghdrOut or ArgKind.SockoptValOut or ArgKind.Clone3Args or ArgKind.GidsOut or ArgKind.Gids16Out
        or ArgKind.CpuSetOut;
}
