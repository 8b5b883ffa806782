using Ether.Replay.Formats.Log;

namespace Ether.Replay.Recorder.Recording;

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
        Volatile.Write(ref _syscalls, writer.Count(EventKind.SyscallEntry));
        Volatile.Write(ref _writes, writer.Count(EventKind.MemoryWrite));
        Volatile.Write(ref _bytes, writer.BytesWritten);
    }
}
