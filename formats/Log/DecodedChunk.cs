using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>
/// One chunk decoded into columns (struct of arrays), for consumers that go through millions of
/// events: export, replay, the TUI. Arrays are reused from chunk to chunk when the same instance
/// is passed back to <see cref="TraceReader.ReadChunk"/>; only the first N entries of each are valid.
/// Threads are referred to by index into the chunk's thread table.
/// </summary>
public sealed class DecodedChunk
{
    public ChunkInfo Info { get; internal set; } = null!;

    // Thread table: every (pid, tid) the chunk mentions.
    public int ThreadCount { get; internal set; }
    public int[] ThreadPid = [];
    public int[] ThreadTid = [];

    // Instructions, in step order.
    public int InstructionCount { get; internal set; }
    public long[] InstructionStep = [];
    public int[] InstructionThread = [];
    public ulong[] InstructionRip = [];
    /// <summary>Offset of the instruction's bytes in <see cref="Code"/>; its length is <see cref="InstructionLength"/>.</summary>
    public int[] InstructionCodeOffset = [];
    public byte[] InstructionLength = [];
    public byte[] Code = [];

    // Register changes: the new value of every changed slot, RegisterValueOffset[i] .. + popcount(mask).
    public int RegisterChangeCount { get; internal set; }
    public long[] RegisterStep = [];
    public int[] RegisterThread = [];
    public uint[] RegisterMask = [];
    public int[] RegisterValueOffset = [];
    public ulong[] RegisterValues = [];
    /// <summary>False when the chunk was read without its register changes (<see cref="TraceReader.ReadChunk(int, DecodedChunk?, bool)"/>
    /// with registerChanges: false, for readers that need instructions, writes and side events only): then
    /// <see cref="RegisterChangeCount"/> is 0 although the chunk may have some, and its events are not the whole log.</summary>
    public bool HasRegisterChanges { get; internal set; } = true;
    /// <summary>Register changes stored against the registers their instruction predicts (format version 2 on),
    /// and how many of those the prediction got exactly right (nothing stored but zeros).</summary>
    public int PredictedRegisterChanges { get; internal set; }
    public int ExactlyPredictedRegisterChanges { get; internal set; }

    // Memory writes.
    public int WriteCount { get; internal set; }
    public long[] WriteStep = [];
    public int[] WriteThread = [];
    public ulong[] WriteAddress = [];
    /// <summary>Length of the write in the target; the stored value can be shorter when Truncated.</summary>
    public long[] WriteSize = [];
    public MemoryWriteFlags[] WriteFlags = [];
    public int[] WriteValueOffset = [];
    public int[] WriteValueLength = [];
    public byte[] WriteValues = [];
    /// <summary>Offset of the old value in <see cref="WriteOldValues"/> (same length as the value) when HasOldValue.</summary>
    public int[] WriteOldValueOffset = [];
    public byte[] WriteOldValues = [];

    // Everything else (syscalls, regions, snapshots, processes, threads, signals, annotations,
    // keyframes), in log order. SideWritesBefore[i] / SideRegistersBefore[i]: how many memory writes
    // and register changes of this chunk precede side event i in the log.
    public List<TraceEvent> SideEvents { get; } = new();
    public List<int> SideWritesBefore { get; } = new();
    public List<int> SideRegistersBefore { get; } = new();

    /// <summary>Events of kinds this reader does not know, skipped while decoding.</summary>
    public int UnknownEvents { get; internal set; }

    public ReadOnlySpan<byte> InstructionBytes(int i) => Code.AsSpan(InstructionCodeOffset[i], InstructionLength[i]);
    public ReadOnlySpan<byte> WriteValue(int i) => WriteValues.AsSpan(WriteValueOffset[i], WriteValueLength[i]);
    public ReadOnlySpan<ulong> RegisterChangeValues(int i) =>
        RegisterValues.AsSpan(RegisterValueOffset[i], System.Numerics.BitOperations.PopCount(RegisterMask[i]));
}
