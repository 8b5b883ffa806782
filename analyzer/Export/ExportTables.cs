using Ether.Replay.Analyzer.Export.Tables;

namespace Ether.Replay.Analyzer.Export;

/// <summary>Every table of the dataset, in the order docs/schema.md lists them.</summary>
internal sealed class ExportTables : IAsyncDisposable
{
    public readonly TracesTable Traces = new();
    public readonly InstructionsTable Instructions = new();
    public readonly RegistersTable Registers = new();
    public readonly MemoryWritesTable MemoryWrites = new();
    public readonly MemoryReadsTable MemoryReads = new();
    public readonly SyscallsTable Syscalls = new();
    public readonly RegionsTable Regions = new();
    public readonly SnapshotsTable Snapshots = new();
    public readonly ProcessesTable Processes = new();
    public readonly ThreadsTable Threads = new();
    public readonly ExecsTable Execs = new();
    public readonly FilesTable Files = new();
    public readonly SignalsTable Signals = new();
    public readonly AnnotationsTable Annotations = new();
    public readonly UnpackLayersTable UnpackLayers = new();
    public readonly OepCandidatesTable OepCandidates = new();
    public readonly LayerTransitionsTable LayerTransitions = new();
    public readonly BasicBlocksTable BasicBlocks = new();

    public IEnumerable<ExportTable> All =>
    [
        Traces, Instructions, Registers, MemoryWrites, MemoryReads, Syscalls, Regions, Snapshots, Processes, Threads, Execs, Files,
        Signals, Annotations, UnpackLayers, OepCandidates, LayerTransitions, BasicBlocks,
    ];

    public async ValueTask DisposeAsync()
    {
        foreach (var t in All) await t.DisposeAsync();
    }
}
