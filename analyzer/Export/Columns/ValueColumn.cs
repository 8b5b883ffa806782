using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>A required (never null) fixed-size column: step, pid, rip, length, flags.</summary>
internal sealed class ValueColumn<T>(string name, string description) : ArrayColumn<T>(name, description, 1024) where T : struct
{
    private readonly DataField<T> _field = new(name, nullable: false);

    public override DataField Field => _field;
    public override string DuckDbType => DuckDbTypeOf(typeof(T));

    protected override Task Write(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<T> rows) => rowGroup.WriteAsync<T>(_field, rows);
}
