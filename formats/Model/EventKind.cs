namespace Ether.Replay.Formats.Model;

/// <summary>
/// Every kind of event an .etrace log carries. The numeric values are written to files:
/// add new kinds with new numbers; a reader skips (and counts) numbers it does not know.
/// </summary>
public enum EventKind : byte
{
    Instruction = 1,
    RegisterChange = 2,
    Keyframe = 3,
    MemoryWrite = 4,
    SyscallEntry = 5,
    SyscallExit = 6,
    RegionMap = 7,
    RegionUnmap = 8,
    RegionProtect = 9,
    RegionSnapshot = 10,
    ProcessStart = 11,
    ProcessExit = 12,
    Exec = 13,
    ThreadStart = 14,
    ThreadExit = 15,
    Signal = 16,
    Annotation = 17,
    File = 18,
}

public static class EventKinds
{
    /// <summary>One past the highest kind this version knows; sizes per-kind count arrays.</summary>
    public const int Limit = 19;

    public static readonly EventKind[] All = Enum.GetValues<EventKind>();

    public static string Name(EventKind kind) => kind switch
    {
        EventKind.Instruction => "instruction",
        EventKind.RegisterChange => "register-change",
        EventKind.Keyframe => "keyframe",
        EventKind.MemoryWrite => "memory-write",
        EventKind.SyscallEntry => "syscall-entry",
        EventKind.SyscallExit => "syscall-exit",
        EventKind.RegionMap => "region-map",
        EventKind.RegionUnmap => "region-unmap",
        EventKind.RegionProtect => "region-protect",
        EventKind.RegionSnapshot => "region-snapshot",
        EventKind.ProcessStart => "process-start",
        EventKind.ProcessExit => "process-exit",
        EventKind.Exec => "exec",
        EventKind.ThreadStart => "thread-start",
        EventKind.ThreadExit => "thread-exit",
        EventKind.Signal => "signal",
        EventKind.Annotation => "annotation",
        EventKind.File => "file",
        _ => $"kind-{(int)kind}",
    };
}
