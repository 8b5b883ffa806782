namespace Ether.Replay.Analyzer.Unpack;

/// <summary>One unpacking layer entered in one memory region of one program image (a row of the unpack_layers table).</summary>
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
    /// <summary>Bytes of this layer that deeper code rewrote before they first ran (fix-ups), image-wide.</summary>
    public long FixupBytes { get; init; }
    /// <summary>How the layer's code came to be: written-code, exec-of-written-file, memfd.</summary>
    public string Arrival { get; init; } = LayerArrival.Loaded;
    /// <summary>For a layer that arrived by exec or mapping of a file written in the trace: who wrote it, how.</summary>
    public string? Chain { get; init; }
    /// <summary>The chosen original entry point lies in this layer row (set at the end).</summary>
    public bool Oep { get; internal set; }
}

/// <summary>How a layer's code arrived.</summary>
public static class LayerArrival
{
    public const string Loaded = "loaded";
    public const string WrittenCode = "written-code";
    public const string ExecOfWrittenFile = "exec-of-written-file";
    public const string Memfd = "memfd";
}

/// <summary>A thread's execution passing from one layer to another (a row of layer_transitions).</summary>
public readonly record struct LayerTransition(int Pid, int Tid, int Image, long Step, int FromLayer, int ToLayer, ulong FromRip, ulong ToRip);

/// <summary>
/// One piece of evidence for the original entry point of an image (a row of oep_candidates): the
/// address, when execution reached it, and how it was recognised.
/// </summary>
public sealed record OepCandidate(int Pid, int Image, int Layer, ulong Address, long Step, int Tid, string Evidence, string Detail)
{
    public int Rank => OepEvidence.Rank(Evidence);
    public bool Chosen { get; internal set; }
}

/// <summary>The kinds of evidence, strongest first.</summary>
public static class OepEvidence
{
    /// <summary>Written code ran with the process's entry state: rsp at argc/argv/envp/auxv and AT_ENTRY = rip.</summary>
    public const string EntryState = "entry-state";
    /// <summary>Execution reached the e_entry of an ELF header that was written into memory.</summary>
    public const string ElfHeader = "elf-header";
    /// <summary>The first instruction run from an image that arrived by exec (or mapping) of a file written in the trace.</summary>
    public const string ExecEntry = "exec-entry";
    /// <summary>The interpreter (ld.so) transferred control into written code: the AT_ENTRY it was handed.</summary>
    public const string FromInterpreter = "from-interpreter";
    /// <summary>The first instruction of the deepest layer in the program's image (the rule of earlier versions).</summary>
    public const string DeepestLayer = "deepest-layer";

    public static readonly string[] Order = [EntryState, ElfHeader, ExecEntry, FromInterpreter, DeepestLayer];

    public static int Rank(string evidence) => Array.IndexOf(Order, evidence) is var i and >= 0 ? i + 1 : Order.Length + 1;
}
