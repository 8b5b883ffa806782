using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// Renders whole calls for one Linux ABI: finds the call's row in the system-call table by number
/// and renders its arguments before or after the call. Unknown calls and rows without a renderer
/// yet (Raw) print their six raw arguments in hex.
/// </summary>
internal sealed class LinuxCallRenderer
{
    private readonly CallSpec?[] _byNumber;

    public LinuxCallRenderer(LinuxSyscallTable calls, LinuxLayout layout)
    {
        Calls = calls;
        Layout = layout;
        _byNumber = new CallSpec?[calls.Numbers.MaxNumber + 1];
        for (long number = 0; number < _byNumber.Length; number++)
            if (calls.Find(number) is { } row)
                _byNumber[number] = new CallSpec(row);
    }

    public LinuxSyscallTable Calls { get; }
    public SyscallTable Table => Calls.Numbers;
    public LinuxLayout Layout { get; }

    public CallSpec? Spec(long number) => number >= 0 && number < _byNumber.Length ? _byNumber[number] : null;

    public string[] Render(long number, ReadOnlySpan<ulong> args, ITargetMemory memory, bool exiting, long ret, out bool renderedOutput)
    {
        var context = new CallContext(args, new TargetReader(memory, Layout), exiting, ret);
        var output = new List<string>(6);
        var spec = Spec(number);
        if (spec is null or { IsRaw: true })
        {
            for (var i = 0; i < 6; i++)
                output.Add(Hex(context.Word(i)));
        }
        else
        {
            RenderSpec(spec, ref context, output);
        }
        renderedOutput = context.RenderedOutput;
        return output.ToArray();
    }

    public static void RenderSpec(CallSpec spec, ref CallContext context, List<string> output)
    {
        if (spec.Custom is not null)
        {
            spec.Custom(ref context, output);
            return;
        }
        foreach (var arg in spec.Args)
            if (ArgRenderer.Render(arg, ref context) is { } text)
                output.Add(text);
    }

    private static readonly CallSpec X86_64Mmap = new(LinuxSyscalls.X86_64.Find("mmap")!);

    /// <summary>i386's old mmap(struct mmap_arg_struct *): printed like mmap with the six fields.</summary>
    public static void OldMmap(ref CallContext c, List<string> output)
    {
        var words = ReadWords(c.Reader, c.Word(0), 6);
        if (words is null)
        {
            output.Add(Addr(c.Word(0)));
            return;
        }
        var inner = new CallContext(words, c.Reader, c.Exiting, c.Ret);
        RenderSpec(X86_64Mmap, ref inner, output);
    }

    /// <summary>
    /// i386's socketcall(call, unsigned long *args): the call name and its arguments, read from the
    /// array and rendered like the direct call, e.g. SYS_CONNECT, [3, {sa_family=AF_UNIX, ...}, 110].
    /// </summary>
    public static void Socketcall(ref CallContext c, List<string> output)
    {
        output.Add(XvalInt(LinuxConstants.SocketcallCalls, c.Word(0), "SYS_???"));
        var direct = SocketcallTarget(c.Int(0));
        var count = direct is { Text: SyscallText.Args, Args.Count: > 0 } ? direct.Args.Max(a => a.Index) + 1 : 0;
        var words = count > 0 ? ReadWords(c.Reader, c.Word(1), count) : null;
        if (words is null)
        {
            output.Add(Addr(c.Word(1)));
            return;
        }
        var spec = new CallSpec(direct!);
        var inner = new CallContext(words, c.Reader, c.Exiting, c.Ret);
        var parts = new List<string>(count);
        RenderSpec(spec, ref inner, parts);
        if (inner.RenderedOutput)
            c.RenderedOutput = true;
        output.Add("[" + string.Join(", ", parts) + "]");
    }

    /// <summary>The row of the call socketcall's SYS_xxx number reaches (SYS_RECVFROM: recvfrom), or null.</summary>
    public static LinuxSyscall? SocketcallTarget(int call) =>
        LinuxConstants.SocketcallCalls.NameOf(call) is { } name ? LinuxSyscalls.I386.Find(name["SYS_".Length..].ToLowerInvariant()) : null;

    private static ulong[]? ReadWords(in TargetReader reader, ulong address, int count)
    {
        var words = new ulong[count];
        for (var i = 0; i < count; i++)
            if (!reader.TryReadWord(address + (ulong)(i * reader.Layout.WordSize), out words[i]))
                return null;
        return words;
    }
}
