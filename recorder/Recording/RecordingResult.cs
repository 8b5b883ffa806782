using Ether.Replay.Formats.Log;

namespace Ether.Replay.Recorder.Recording;

/// <summary>What a finished recording produced, whatever the backend; the CLI prints it as the summary.</summary>
public sealed record RecordingResult
{
    public required string OutputPath { get; init; }
    public required StopReason StopReason { get; init; }
    public string StopDetail { get; init; } = "";
    public long Steps { get; init; }
    public long Instructions { get; init; }
    public long Syscalls { get; init; }
    public long MemoryWrites { get; init; }
    public long Processes { get; init; }
    public long Threads { get; init; }
    public long Bytes { get; init; }
    public TimeSpan Elapsed { get; init; }
    /// <summary>Where the program ran (ptrace): its working directory, and whether it is still there.</summary>
    public string WorkingDirectory { get; init; } = "";
    public WorkingDirectoryFate WorkingDirectoryFate { get; init; }
    public int? RootExitCode { get; init; }
    public int? RootSignal { get; init; }
    /// <summary>What only this backend knows, as summary lines (Xen: frames, the agent's end).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> BackendDetails { get; init; } = [];

    public double BytesPerInstruction => Instructions > 0 ? (double)Bytes / Instructions : 0;
    public double StepsPerSecond => Elapsed.TotalSeconds > 0 ? Steps / Elapsed.TotalSeconds : 0;

    /// <summary>The counts, size and stop reason of a closed (or about to be closed) trace.</summary>
    internal static RecordingResult FromWriter(TraceWriter writer, string output, StopReason reason, string detail, TimeSpan elapsed) => new()
    {
        OutputPath = output,
        StopReason = reason,
        StopDetail = detail,
        Steps = writer.Step,
        Instructions = writer.Count(EventKind.Instruction),
        Syscalls = writer.Count(EventKind.SyscallEntry),
        MemoryWrites = writer.Count(EventKind.MemoryWrite),
        Elapsed = elapsed,
    };
}

/// <summary>What became of the program's working directory when recording ended.</summary>
public enum WorkingDirectoryFate
{
    /// <summary>No working directory of ours (e.g. a Xen guest).</summary>
    None,
    /// <summary>The user's own directory (--cwd): left as it is.</summary>
    UserDirectory,
    /// <summary>A scratch directory, deleted with whatever the program left in it.</summary>
    Removed,
    /// <summary>Kept where the user asked (--keep-workdir DIR), with the files the program left.</summary>
    Kept,
}
