using Ether.Replay.Recorder.Backends.Ptrace.Transparency;

namespace Ether.Replay.Recorder.Tests.Transparency;

/// <summary>A flat fake memory shared by the fake calls of one test (a process's address space).</summary>
internal sealed class FakeMemory
{
    private readonly Dictionary<ulong, byte> _bytes = new();

    public int Read(ulong address, Span<byte> into)
    {
        for (int i = 0; i < into.Length; i++)
        {
            if (!_bytes.TryGetValue(address + (ulong)i, out byte b)) return i;
            into[i] = b;
        }
        return into.Length;
    }

    public void Write(ulong address, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++) _bytes[address + (ulong)i] = bytes[i];
    }

    public byte[] Get(ulong address, int length)
    {
        var b = new byte[length];
        Assert.Equal(length, Read(address, b));
        return b;
    }

    /// <summary>Makes <paramref name="length"/> bytes at <paramref name="address"/> exist, filled with <paramref name="fill"/>.</summary>
    public void Map(ulong address, int length, byte fill = 0xAA)
    {
        for (int i = 0; i < length; i++) _bytes[address + (ulong)i] = fill;
    }
}

/// <summary>A fake system-call stop (the real one is the session's): the call, its result and the process memory.</summary>
internal sealed class FakeSyscall(int pid, int tid, long number, FakeMemory memory, params ulong[] args) : ISyscallView
{
    private readonly ulong[] _args = Pad(args);
    public int Pid { get; } = pid;
    public int Tid { get; } = tid;
    public bool IsEntry { get; private set; } = true;
    public long Number { get; } = number;
    public long Return { get; set; }
    public bool Skipped { get; private set; }
    public List<(string Key, string Text)> Notes { get; } = [];
    public Dictionary<int, ulong> KernelArgs { get; } = new();

    public ulong Arg(int index) => _args[index];
    public void Skip(long result) { Skipped = true; Return = result; }
    public void SetArgument(int index, ulong value) => KernelArgs[index] = value;
    public int ReadMemory(ulong address, Span<byte> into) => memory.Read(address, into);
    public bool WriteMemory(ulong address, ReadOnlySpan<byte> bytes) { memory.Write(address, bytes); return true; }
    public void Annotate(string key, string text) => Notes.Add((key, text));

    /// <summary>The same call at its exit stop, returning <paramref name="ret"/>.</summary>
    public FakeSyscall Exit(long ret)
    {
        IsEntry = false;
        if (!Skipped) Return = ret;
        return this;
    }

    private static ulong[] Pad(ulong[] a) { var r = new ulong[6]; a.CopyTo(r, 0); return r; }
}
