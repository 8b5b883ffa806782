namespace Ether.Replay.Analyzer.Unpack;

/// <summary>One unpacking layer of one program image (a row of the unpack_layers table).</summary>
public sealed class LayerRecord
{
    public int Pid { get; init; }
    public int Image { get; init; }
    public int Layer { get; init; }
    public long FirstStep { get; init; }
    public long LastStep { get; internal set; }
    public ulong EntryAddress { get; init; }
    public int EntryTid { get; init; }
    public ulong? RegionStart { get; init; }
    public ulong? RegionEnd { get; init; }
    public string? RegionName { get; init; }
    public bool MainImage { get; init; }
    public long BytesWritten { get; init; }
    public ulong? WriterRipMin { get; init; }
    public ulong? WriterRipMax { get; init; }
    public long? WriterFirstStep { get; init; }
    public long? WriterLastStep { get; init; }
    public long KernelBytes { get; init; }
    public long Instructions { get; internal set; }
}

/// <summary>A thread's execution passing from one layer to another (a row of layer_transitions).</summary>
public readonly record struct LayerTransition(int Pid, int Tid, int Image, long Step, int FromLayer, int ToLayer, ulong FromRip, ulong ToRip);
