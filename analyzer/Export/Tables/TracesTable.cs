namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class TracesTable : ExportTable
{
    public readonly StringColumn File = new("file", "path of the .etrace file when it was exported");
    public readonly ValueColumn<long> FileBytes = new("file_bytes", "its size");
    public readonly ValueColumn<int> FormatVersion = new("format_version", ".etrace format version");
    public readonly StringColumn ToolVersion = new("tool_version", "Ether.Replay version that recorded it");
    public readonly StringColumn Backend = new("backend", "ptrace, xen, synthetic, …");
    public readonly StringColumn BackendParameters = new("backend_parameters", "backend settings as a JSON object");
    public readonly StringColumn TargetPath = new("target_path", "the recorded program");
    public readonly StringColumn TargetArgv = new("target_argv", "its arguments, shell-quoted");
    public readonly StringColumn TargetSha256 = new("target_sha256", "SHA-256 of the program (empty when unknown)");
    public readonly StringColumn Architecture = new("architecture", "x86_64, x86");
    public readonly StringColumn Host = new("host", "machine it was recorded on");
    public readonly TimestampColumn StartTime = new("start_time", "when recording started");
    public readonly TimestampColumn EndTime = new("end_time", "when it stopped (null without a footer)");
    public readonly ValueColumn<bool> ClosedCleanly = new("closed_cleanly", "the file has its footer index");
    public readonly StringColumn StopReason = new("stop_reason", "exited, max-steps, timeout, interrupted, target-crashed, recorder-error, closed, unknown");
    public readonly StringColumn StopDetail = new("stop_detail", "details of the stop reason");
    public readonly StringColumn Damage = new("damage", "why reading stopped early on a cut or damaged file (null when complete)", nullable: true);
    public readonly ValueColumn<long> LastStep = new("last_step", "last step exported");
    public readonly ValueColumn<long> Instructions = new("instructions", "rows in instructions");
    public readonly ValueColumn<long> RegisterChanges = new("register_changes", "register change events");
    public readonly ValueColumn<long> MemoryWrites = new("memory_writes", "rows in memory_writes");
    public readonly ValueColumn<long> Syscalls = new("syscalls", "rows in syscalls");
    public readonly ValueColumn<long> RegionEvents = new("region_events", "rows in regions");
    public readonly ValueColumn<long> Snapshots = new("snapshots", "rows in snapshots");
    public readonly ValueColumn<int> Processes = new("processes", "rows in processes");
    public readonly ValueColumn<int> Threads = new("threads", "rows in threads");
    public readonly ValueColumn<long> Signals = new("signals", "rows in signals");
    public readonly ValueColumn<int> Layers = new("layers", "highest unpacking layer executed (0: nothing unpacked)");
    public readonly TimestampColumn ExportedAt = new("exported_at", "when this dataset partition was written");
    public readonly StringColumn ExporterVersion = new("exporter_version", "Ether.Replay version and exporter revision that exported it, e.g. 0.1.0 r1 (the revision changes with any change of exported content: docs/analyses.md)");

    public TracesTable() : base("traces", "One row per trace: header facts, why recording stopped, counts.")
        => Declare(File, FileBytes, FormatVersion, ToolVersion, Backend, BackendParameters, TargetPath, TargetArgv, TargetSha256, Architecture, Host,
            StartTime, EndTime, ClosedCleanly, StopReason, StopDetail, Damage, LastStep, Instructions, RegisterChanges, MemoryWrites, Syscalls,
            RegionEvents, Snapshots, Processes, Threads, Signals, Layers, ExportedAt, ExporterVersion);
}
