using Parquet;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>
/// A fixed-size value per row, kept in an array that is reused from row group to row group (one
/// filling, one being written): what <see cref="ValueColumn{T}"/> and <see cref="NullableColumn{T}"/>
/// share. Subclasses say only how the sealed rows are written.
/// </summary>
internal abstract class ArrayColumn<TItem>(string name, string description, int capacity) : Column(name, description)
{
    private TItem[] _values = new TItem[capacity];
    private TItem[] _spare = new TItem[capacity];
    private int _count;

    public override int Count => _count;

    public void Add(TItem value)
    {
        if (_count == _values.Length) Grow(ref _values, _count + 1);
        _values[_count++] = value;
    }

    public override Func<ParquetRowGroupWriter, Task> Seal()
    {
        var full = _values.AsMemory(0, _count);
        (_values, _spare) = (_spare, _values);
        _count = 0;
        return rowGroup => Write(rowGroup, full);
    }

    protected abstract Task Write(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<TItem> rows);
}
