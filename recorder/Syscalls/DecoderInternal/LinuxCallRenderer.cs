using Ether.Replay.Formats.Abi;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>
/// Renders whole calls for one Linux ABI: finds the call's spec by number and renders its
/// arguments before or after the call. Unknown calls print their six raw arguments in hex.
/// </summary>
internal sealed class LinuxCallRenderer
{
    private readonly CallSpec?[] _byNumber;

    public LinuxCallRenderer(SyscallTable table, LinuxLayout layout, IReadOnlyDictionary<string, CallSpec> specs)
    {
        Table = table;
        Layout = layout;
        _byNumber = new CallSpec?[table.MaxNumber + 1];
        foreach (var (number, name) in table.Entries())
            if (specs.TryGetValue(name, out var spec))
                _byNumber[number] = spec;
    }

    public SyscallTable Table { get; }
    public LinuxLayout Layout { get; }

    public CallSpec? Spec(long number) => number >= 0 && number < _byNumber.Length ? _byNumber[number] : null;

    public string[] Render(long number, ReadOnlySpan<ulong> args, ITargetMemory memory, bool exiting, long ret, out bool renderedOutput)
    {
        var context = new CallContext(args, new TargetReader(memory, Layout), exiting, ret);
        var output = new List<string>(6);
        var spec = Spec(number);
        if (spec is null)
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
        RenderSpec(LinuxCallSpecs.Common["mmap"], ref inner, output);
    }

    /// <summary>
    /// i386's socketcall(call, unsigned long *args): the call name and its arguments, read from the
    /// array and rendered like the direct call, e.g. SYS_CONNECT, [3, {sa_family=AF_UNIX, ...}, 110].
    /// </summary>
    public static void Socketcall(ref CallContext c, List<string> output)
    {
        var call = c.Int(0);
        output.Add(XvalInt(LinuxConstants.SocketcallCalls, c.Word(0), "SYS_???"));
        var name = LinuxConstants.SocketcallCalls.NameOf(call);
        var (direct, count) = name switch
        {
            "SYS_SOCKET" => ("socket", 3), "SYS_BIND" => ("bind", 3), "SYS_CONNECT" => ("connect", 3),
            "SYS_LISTEN" => ("listen", 2), "SYS_ACCEPT" => ("accept", 3), "SYS_GETSOCKNAME" => ("getsockname", 3),
            "SYS_GETPEERNAME" => ("getpeername", 3), "SYS_SOCKETPAIR" => ("socketpair", 4), "SYS_SEND" => ("send", 4),
            "SYS_RECV" => ("recv", 4), "SYS_SENDTO" => ("sendto", 6), "SYS_RECVFROM" => ("recvfrom", 6),
            "SYS_SHUTDOWN" => ("shutdown", 2), "SYS_SETSOCKOPT" => ("setsockopt", 5),
            "SYS_GETSOCKOPT" => ("getsockopt", 5), "SYS_SENDMSG" => ("sendmsg", 3), "SYS_RECVMSG" => ("recvmsg", 3),
            "SYS_ACCEPT4" => ("accept4", 4),
            _ => ("", 0),
        };
        var words = count > 0 ? ReadWords(c.Reader, c.Word(1), count) : null;
        if (words is null || !LinuxCallSpecs.I386.TryGetValue(direct, out var spec))
        {
            output.Add(Addr(c.Word(1)));
            return;
        }
        var inner = new CallContext(words, c.Reader, c.Exiting, c.Ret);
        var parts = new List<string>(count);
        RenderSpec(spec, ref inner, parts);
        if (inner.RenderedOutput)
            c.RenderedOutput = true;
        output.Add("[" + string.Join(", ", parts) + "]");
    }

    private static ulong[]? ReadWords(in TargetReader reader, ulong address, int count)
    {
        var words = new ulong[count];
        for (var i = 0; i < count; i++)
            if (!reader.TryReadWord(address + (ulong)(i * reader.Layout.WordSize), out words[i]))
                return null;
        return words;
    }
}
