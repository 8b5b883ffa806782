using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Export.Importers;

/// <summary>What the export keeps per thread between events and chunks.</summary>
internal sealed class ThreadState(int pid, int tid, LayerTracker.LayerThread layers)
{
    public readonly int Pid = pid;
    public readonly int Tid = tid;
    public readonly LayerTracker.LayerThread Layers = layers;

    /// <summary>Address of its last instruction (or the rip its registers last showed, for syscall-only traces).</summary>
    public ulong? Rip;
    /// <summary>Its registers as the log has shown them so far (the last keyframe plus the changes since):
    /// before its next instruction, what that instruction's memory operands are computed from.</summary>
    public RegisterFile Registers;
    public long Instructions;
    public long FirstStep = -1;
    public long LastStep = -1;

    // Thread lifecycle (threads table).
    public int? ParentTid;
    public long? StartStep;
    public long? ExitStep;
    public int? ExitCode;

    // The dynamic basic block in progress. Its bytes are only gathered when it turns out to be new:
    // from the current chunk's instructions (BlockChunkFirst..BlockChunkLast), after the part carried
    // over from earlier chunks.
    public bool BlockOpen;
    public ulong BlockStart;
    public long BlockFirstStep;
    public int BlockInstructions;
    public int BlockLayer;
    public int BlockLength;
    public int BlockChunkFirst = -1;
    public int BlockChunkLast = -1;
    public byte[] BlockCarried = new byte[64];
    public int BlockCarriedLength;
    public ulong NextRip;
    /// <summary>This thread's index in the chunk being imported (-1 between chunks).</summary>
    public int ChunkThread = -1;
}
