using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>A fixed-size column that can be null: a system call's exit step and return value, an exit code.</summary>
internal sealed class NullableColumn<T>(string name, string description) : ArrayColumn<T?>(name, description, 64) where T : struct
{
    private readonly DataField<T?> _field = new(name, nullable: true);

    public override DataField Field => _field;
    public override string DuckDbType => DuckDbTypeOf(typeof(T));

    protected override Task Write(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<T?> rows) => rowGroup.WriteAsync<T>(_field, rows);
}
