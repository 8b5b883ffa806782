using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>A fixed-size column that can be null: a system call's exit step and return value, an exit code.</summary>
internal sealed class NullableColumn<T>(string name, string description) : Column(name, description) where T : struct
{
    private readonly DataField<T?> _field = new(name, nullable: true);
    private T?[] _values = new T?[64];
    private T?[] _spare = new T?[64];
    private int _count;

    public override DataField Field => _field;
    public override string DuckDbType => DuckDbTypeOf(typeof(T));
    public override int Count => _count;

    public void Add(T? value)
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
