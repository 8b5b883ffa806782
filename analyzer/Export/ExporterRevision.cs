using System.IO.Hashing;
using System.Text;

namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// Which exporter made a dataset: the revision number of what an export writes, and a hash of the
/// schema it writes. A cached dataset (<c>file.etrace.parquet/</c>, see Query/DatasetTarget) is served
/// only when both match this build, so a cache made before an exporter change is rebuilt, not served.
/// <para>
/// THE RULE: add a line to <see cref="History"/> (next number, the new schema hash, what changed) in
/// the same commit as ANY change to what an export writes for a given trace — a table or column added,
/// removed, renamed or retyped, or different values in the same columns (a new importer rule, a fixed
/// bug, a changed layer assignment). The schema hash changes by itself when columns change;
/// ExporterRevisionTests fails when it does without a new line here, and prints the hash to pin.
/// Value-only changes cannot be detected: bump them by hand.
/// </para>
/// </summary>
public static class ExporterRevision
{
    /// <summary>Every revision, oldest first: its number, the schema hash it exports, and what changed.</summary>
    public static readonly IReadOnlyList<(int Number, string SchemaHash, string Change)> History =
    [
        (1, "01542f7d7aea1141", "first revision in the cache stamp (before it, every cache carried the assembly version 0.1.0.0): " +
                 "15 tables; forked children inherit their parent's memory, map and written code; one memory-map model " +
                 "(merged regions after a protect, offsets of memory without a file kept)"),
        (2, "a2d00cd79dacbd41", "memory_reads table (what each step read, machinestate); Linux syscall categories from the system-call table"),
        (3, "f5276d8ff1760399", "unpack: oep_candidates and files tables; unpack_layers one row per layer and region with fixup_bytes, " +
                 "arrival, chain, oep; written bytes that have not run keep their layer when deeper code rewrites them (fix-ups); " +
                 "a mapped or exec'd file the trace wrote is written code"),
        (4, "f5276d8ff1760399", "unpack: the chosen original entry point of an image is, among candidates of the strongest evidence, " +
                 "the deepest layer's (a dropped crypter's own entry state vs the program it decrypts)"),
        (5, "f5276d8ff1760399", "memory_reads: the steps of an x86 trace (a 32-bit guest under Xen) are decoded as 32-bit code " +
                 "whatever their code selector (a ret reads 4 bytes, not 8)"),
    ];

    /// <summary>The revision this build exports.</summary>
    public static int Number => History[^1].Number;

    /// <summary>The hash of the tables, columns, DuckDB types and nullability this build exports.</summary>
    public static string SchemaHash { get; } = Hash(DatasetSchema.Tables);

    /// <summary>What a cache stamp records: "revision/schema hash".</summary>
    public static string Stamp => $"{Number}/{SchemaHash}";

    /// <summary>16 hex digits over every table's name and every column's name, type and nullability (not descriptions).</summary>
    public static string Hash(IEnumerable<TableInfo> tables)
    {
        var text = new StringBuilder();
        foreach (var t in tables)
        {
            text.Append(t.Name).Append('\n');
            foreach (var c in t.Columns) text.Append(' ').Append(c.Name).Append(' ').Append(c.DuckDbType).Append(c.Nullable ? " NULL" : " NOT NULL").Append('\n');
        }
        return Convert.ToHexString(XxHash64.Hash(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }
}
