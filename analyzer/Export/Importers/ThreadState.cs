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
    public long Instructions;
    public long FirstStep = -1;
    public long LastStep = -1;

    // Thread lifecycle (threads table).
    public int? ParentTid;
    public long? StartStep;
    public long? ExitStep;
    public int? ExitCode;

    // The dynamic basic block in progress.
    public bool BlockOpen;
    public ulong BlockStart;
    public long BlockFirstStep;
    public int BlockInstructions;
    public int BlockLayer;
    public int BlockLength;
    public byte[] BlockBytes = new byte[256];
    public ulong NextRip;
    public bool LastEndedBlock;
}
