namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>One call being rendered: its raw arguments, the target's memory, and (after the call) its result.</summary>
internal ref struct CallContext
{
    private readonly ReadOnlySpan<ulong> _args;

    public CallContext(ReadOnlySpan<ulong> args, TargetReader reader, bool exiting, long ret)
    {
        _args = args;
        Reader = reader;
        Exiting = exiting;
        Ret = exiting ? reader.Layout.Return(ret) : 0;
    }

    public TargetReader Reader { get; }
    public readonly LinuxLayout Layout => Reader.Layout;
    public bool Exiting { get; }
    public long Ret { get; }

    /// <summary>Set when an output argument printed its contents (so the exit rendering differs).</summary>
    public bool RenderedOutput { get; set; }

    public readonly bool Succeeded => Exiting && !Errno.IsError(Ret);

    /// <summary>Raw argument i as an unsigned long of the target; missing arguments read as 0.</summary>
    public readonly ulong Word(int i) => i >= 0 && i < _args.Length ? Layout.Word(_args[i]) : 0;

    public readonly long SignedWord(int i) => i >= 0 && i < _args.Length ? Layout.SignedWord(_args[i]) : 0;

    /// <summary>Raw argument i as a C int (the kernel uses the low 32 bits).</summary>
    public readonly int Int(int i) => i >= 0 && i < _args.Length ? (int)(uint)_args[i] : 0;

    public readonly uint UInt(int i) => (uint)Int(i);

    /// <summary>Raw 64-bit argument, for the few 64-bit flag words (clone3 is in memory, so none yet).</summary>
    public readonly ulong Raw(int i) => i >= 0 && i < _args.Length ? _args[i] : 0;
}
