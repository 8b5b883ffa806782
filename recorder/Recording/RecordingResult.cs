using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Recorder.Recording;

/// <summary>What a finished recording produced; the CLI prints it as the summary.</summary>
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
    public string WorkingDirectory { get; init; } = "";
    public int? RootExitCode { get; init; }
    public int? RootSignal { get; init; }

    public double BytesPerInstruction => Instructions > 0 ? (double)Bytes / Instructions : 0;
    public double StepsPerSecond => Elapsed.TotalSeconds > 0 ? Steps / Elapsed.TotalSeconds : 0;
}

/// <summary>A live view for the progress line; read from another thread, so only whole numbers.</summary>
public sealed class RecordingProgress
{
    private long _steps, _syscalls, _writes, _bytes;
    public long Steps => Volatile.Read(ref _steps);
    public long Syscalls => Volatile.Read(ref _syscalls);
    public long MemoryWrites => Volatile.Read(ref _writes);
    public long Bytes => Volatile.Read(ref _bytes);

    internal void Update(TraceWriter writer)
    {
        Volatile.Write(ref _steps, writer.Step);
        Volatile.Write(ref _syscalls, writer.Count(Formats.Model.EventKind.SyscallEntry));
        Volatile.Write(ref _writes, writer.Count(Formats.Model.EventKind.MemoryWrite));
        Volatile.Write(ref _bytes, writer.BytesWritten);
    }
}
