using Ether.Replay.Recorder.Backends.Ptrace.Interception;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency;

/// <summary>The session's <see cref="SyscallStop"/> as an <see cref="ISyscallView"/> (one reused object: bind, use, drop).</summary>
internal sealed class SyscallStopView : ISyscallView
{
    private SyscallStop _stop = null!;

    public SyscallStopView Bind(SyscallStop stop)
    {
        _stop = stop;
        return this;
    }

    public int Pid => _stop.Pid;
    public int Tid => _stop.Tid;
    public bool IsEntry => _stop.IsEntry;
    public long Number => _stop.Number;
    public ulong Arg(int index) => _stop.Args[index];
    public long Return { get => _stop.Return; set => _stop.Return = value; }
    public void Skip(long result) => _stop.Skip(result);
    public void SetArgument(int index, ulong value) => _stop.SetArgument(index, value);
    public int ReadMemory(ulong address, Span<byte> into) => _stop.ReadMemory(address, into);
    public bool WriteMemory(ulong address, ReadOnlySpan<byte> bytes) => _stop.WriteMemory(address, bytes);
    public void Annotate(string key, string text) => _stop.Annotate(key, text);
}
