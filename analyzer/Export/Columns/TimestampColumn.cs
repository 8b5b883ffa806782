using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>A UTC instant with microsecond precision (DuckDB: TIMESTAMP WITH TIME ZONE); nullable.</summary>
internal sealed class TimestampColumn(string name, string description) : Column(name, description)
{
    private readonly DateTimeDataField _field = new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true);
    private DateTime?[] _values = new DateTime?[4];
    private int _count;

    public override DataField Field => _field;
    public override string DuckDbType => "TIMESTAMP WITH TIME ZONE";
    public override int Count => _count;

    public void Add(DateTimeOffset? value)
    {
        if (_count == _values.Length) Grow(ref _values, _count + 1);
        _values[_count++] = value?.UtcDateTime;
    }

    public override Func<ParquetRowGroupWriter, Task> Seal()
    {
        var full = _values.AsMemory(0, _count).ToArray(); // a handful of rows: copy instead of keeping a spare
        _count = 0;
        return rowGroup => rowGroup.WriteAsync<DateTime>(_field, full);
    }
}
