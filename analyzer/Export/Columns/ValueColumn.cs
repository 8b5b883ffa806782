using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>A required (never null) fixed-size column: step, pid, rip, length, flags.</summary>
internal sealed class ValueColumn<T>(string name, string description) : Column(name, description) where T : struct
{
    private readonly DataField<T> _field = new(name, nullable: false);
    private T[] _values = new T[1024];
    private T[] _spare = new T[1024];
    private int _count;

    public override DataField Field => _field;
    public override string DuckDbType => DuckDbTypeOf(typeof(T));
    public override int Count => _count;

    public void Add(T value)
    {
        if (_count == _values.Length) Grow(ref _values, _count + 1);
        _values[_count++] = value;
    }

    public override Func<ParquetRowGroupWriter, Task> Seal()
    {
        var full = _values.AsMemory(0, _count);
        (_values, _spare) = (_spare, _values);
        _count = 0;
        return rowGroup => rowGroup.WriteAsync<T>(_field, full);
    }
}
