using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>
/// One column of an exported table: a growable buffer of the rows of the current row group, its
/// Parquet field, its DuckDB type (for empty views) and the one-line meaning shown in docs/schema.md.
/// Buffers are reused from row group to row group (two sets: one filling, one being written), so a
/// long export allocates nothing per row.
/// </summary>
internal abstract class Column(string name, string description)
{
    public string Name { get; } = name;
    public string Description { get; } = description;
    /// <summary>Encoding to ask Parquet.Net for, when its guess is slow or poor: dictionary for
    /// low-cardinality text and code bytes (skips its uniqueness scan), delta for step counters.</summary>
    public EncodingHint? Hint { get; init; }
    public abstract DataField Field { get; }
    /// <summary>The DuckDB type DuckDB reads this column as.</summary>
    public abstract string DuckDbType { get; }
    public abstract int Count { get; }
    /// <summary>Variable-length payload held (blobs, strings), to cut row groups by size too.</summary>
    public virtual long PayloadBytes => 0;
    /// <summary>
    /// Hands the buffered rows to a writer delegate and starts an empty buffer, so the importers go on
    /// filling rows while another core compresses the sealed ones. The buffers swap with a spare set:
    /// the caller must let the returned write finish before it seals again.
    /// </summary>
    public abstract Func<ParquetRowGroupWriter, Task> Seal();

    protected static void Grow<T>(ref T[] array, int needed)
    {
        if (needed <= array.Length) return;
        Array.Resize(ref array, Math.Max(needed, array.Length * 2));
    }

    public static string DuckDbTypeOf(Type t) => t switch
    {
        _ when t == typeof(long) => "BIGINT",
        _ when t == typeof(int) => "INTEGER",
        _ when t == typeof(short) => "SMALLINT",
        _ when t == typeof(ulong) => "UBIGINT",
        _ when t == typeof(uint) => "UINTEGER",
        _ when t == typeof(byte) => "UTINYINT",
        _ when t == typeof(bool) => "BOOLEAN",
        _ when t == typeof(double) => "DOUBLE",
        _ => throw new NotSupportedException($"no DuckDB type for {t}"),
    };
}
