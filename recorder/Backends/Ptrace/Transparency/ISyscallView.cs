namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency;

/// <summary>
/// A system-call stop as the transparency components need it: who made the call, its number and
/// arguments, its result (at exit), the caller's memory, and a note for the trace. The session
/// adapts its own stop to this (<see cref="SyscallStopView"/>); unit tests use a fake.
/// Numbers and arguments are x86-64 (32-bit calls are not handed to these components).
/// </summary>
internal interface ISyscallView
{
    int Pid { get; }
    int Tid { get; }
    bool IsEntry { get; }
    long Number { get; }
    /// <summary>Argument <paramref name="index"/> (0-5) as the program passed it.</summary>
    ulong Arg(int index);
    /// <summary>Exit: the call's result (a value or -errno); set it to change what the program gets.</summary>
    long Return { get; set; }
    /// <summary>Entry: the call will not run; the program gets <paramref name="result"/>.</summary>
    void Skip(long result);
    /// <summary>Entry: the kernel gets <paramref name="value"/> as argument <paramref name="index"/>; the program keeps its own registers.</summary>
    void SetArgument(int index, ulong value);
    int ReadMemory(ulong address, Span<byte> into);
    bool WriteMemory(ulong address, ReadOnlySpan<byte> bytes);
    void Annotate(string key, string text);
}
