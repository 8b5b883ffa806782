using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>
/// Streams events into an .etrace file chunk by chunk (see docs/trace-format.md). Memory stays
/// bounded by one chunk. Every completed chunk reaches the file with one write, so a writer killed
/// at any moment leaves a readable prefix. Not thread-safe: one recording thread owns it.
/// </summary>
public sealed partial class TraceWriter : IDisposable
{
    public static TraceWriter Create(string path, TraceHeader header, TraceWriterOptions? options = null)
        => throw new NotImplementedException();

    public TraceWriter(Stream output, TraceHeader header, TraceWriterOptions? options = null, bool leaveOpen = false)
        => throw new NotImplementedException();

    /// <summary>The step clock: number of instructions and ticks so far.</summary>
    public long Step => throw new NotImplementedException();

    /// <summary>Bytes that have reached the output (complete frames only).</summary>
    public long BytesWritten => throw new NotImplementedException();

    /// <summary>Events written so far, per kind.</summary>
    public long Count(EventKind kind) => throw new NotImplementedException();

    /// <summary>Advances the step clock by one instruction of (pid, tid) at rip whose bytes are <paramref name="code"/>.
    /// Pass the bytes every time; the writer stores them only when (pid, rip) is new to the chunk or they changed.</summary>
    public void Instruction(int pid, int tid, ulong rip, ReadOnlySpan<byte> code) => throw new NotImplementedException();

    /// <summary>Advances the step clock without an instruction (backends that only see system calls).</summary>
    public void Tick() => throw new NotImplementedException();

    /// <summary>The thread's full register file after the current step. Writes a change with only the
    /// slots that differ (nothing if none), or a keyframe for a thread the writer has not seen.</summary>
    public void Registers(int pid, int tid, in RegisterFile registers) => throw new NotImplementedException();

    /// <summary>A write of <paramref name="value"/> at <paramref name="address"/> during the current step.</summary>
    public void MemoryWrite(int pid, int tid, ulong address, ReadOnlySpan<byte> value,
        MemoryWriteFlags flags = MemoryWriteFlags.None, ReadOnlySpan<byte> oldValue = default)
        => throw new NotImplementedException();

    /// <summary>Any event; its Step is ignored (the current step is used). Rare kinds go here.</summary>
    public void Write(TraceEvent e) => throw new NotImplementedException();

    /// <summary>Ends the current chunk now (it is written even if small).</summary>
    public void Flush() => throw new NotImplementedException();

    /// <summary>Writes the last chunk, the footer index and the trailer. Idempotent.</summary>
    public void Close(StopReason reason, string detail = "") => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
