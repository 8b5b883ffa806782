namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class RegionsTable : StepRowsTable
{
    public readonly StringColumn Event = new("event", "map, unmap or protect");
    public readonly ValueColumn<ulong> Start = new("start", "first address of the range");
    public readonly ValueColumn<ulong> End = new("end", "address after the range");
    public readonly ValueColumn<ulong> Size = new("size", "end - start");
    public readonly StringColumn Protection = new("protection", "rwxp / rwxs as in /proc/PID/maps; null for unmap", nullable: true);
    public readonly NullableColumn<ulong> FileOffset = new("file_offset", "offset in the backing file (map only)");
    public readonly StringColumn Name = new("name", "backing file or [heap]/[stack]/…; empty for anonymous memory; null for unmap/protect", nullable: true);

    public RegionsTable() : base("regions", "Memory map changes: one row per map, unmap and protect event.",
        step: "step at which the mapping changed", pid: "process id (address space)", tid: "thread whose call changed it (0 when unknown)")
        => Declare(Event, Start, End, Size, Protection, FileOffset, Name);
}
