namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>Renders a call whose arguments depend on each other too much for a list of kinds.</summary>
internal delegate void CustomRenderer(ref CallContext context, List<string> output);

/// <summary>
/// The decoder's view of one row of the system-call table (<see cref="LinuxSyscall"/>): the row, the
/// code that prints it when the row says Custom, and whether anything prints differently after the call.
/// </summary>
internal sealed class CallSpec
{
    public CallSpec(LinuxSyscall row)
    {
        Row = row;
        if (row.Text == SyscallText.Custom)
        {
            if (!CustomCalls.Renderers.TryGetValue(row.Name, out var custom))
                throw new InvalidOperationException($"system-call table: {row.Name} is Custom but the decoder has no renderer for it");
            Custom = custom.Render;
            HasOutput = custom.HasOutput;
        }
        else
        {
            HasOutput = row.Text == SyscallText.Args && row.Args.Any(a => IsPrintedAfterCall(a.Kind));
        }
    }

    public LinuxSyscall Row { get; }
    public SyscallReturn Return => Row.Return;
    public IReadOnlyList<SyscallArg> Args => Row.Args;
    public CustomRenderer? Custom { get; }

    /// <summary>Six hex words: the row has no renderer yet.</summary>
    public bool IsRaw => Row.Text == SyscallText.Raw;

    /// <summary>True when something prints differently after the call.</summary>
    public bool HasOutput { get; }

    /// <summary>Output kinds whose contents print once the kernel filled them (the others print as the pointer).</summary>
    public static bool IsPrintedAfterCall(SyscallArgKind kind) => kind is SyscallArgKind.OutBuf or SyscallArgKind.OutBufHex
        or SyscallArgKind.OutCwd or SyscallArgKind.OutIovec or SyscallArgKind.StatOut or SyscallArgKind.Stat64Out
        or SyscallArgKind.StatxOut or SyscallArgKind.UtsnameOut or SyscallArgKind.TimespecOut or SyscallArgKind.Timespec64Out
        or SyscallArgKind.TimespecRem or SyscallArgKind.TimevalOut or SyscallArgKind.RlimitOut or SyscallArgKind.Rlimit64Out
        or SyscallArgKind.RusageOut or SyscallArgKind.WaitRusageOut or SyscallArgKind.WaitStatusOut or SyscallArgKind.PipeFds
        or SyscallArgKind.LoffOut or SyscallArgKind.SysinfoOut or SyscallArgKind.TmsOut or SyscallArgKind.DirentsOut
        or SyscallArgKind.Dirents64Out or SyscallArgKind.SigsetOut or SyscallArgKind.SigactionOut or SyscallArgKind.SockaddrOut
        or SyscallArgKind.SocklenOut or SyscallArgKind.MsghdrOut or SyscallArgKind.SockoptValOut or SyscallArgKind.Clone3Args
        or SyscallArgKind.GidsOut or SyscallArgKind.Gids32Out or SyscallArgKind.CpuSetOut;
}
