using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>Text per row. Most values are shared constants (register names, syscall names), so rows hold
/// references, not copies; Parquet's dictionary encoding then stores each distinct value once.</summary>
internal sealed class StringColumn(string name, string description, bool nullable = false) : Column(name, description)
{
    private sealed class Buffer
    {
        public string?[] Values = new string?[1024];
        public int Count;
        public long Chars;
    }

    private readonly DataField<string> _field = new(name, nullable);
    private Buffer _filling = new();
    private Buffer _spare = new();
    // Only one row group of a table is written at a time, so the two buffers share these.
    private ReadOnlyMemory<char>[] _slices = [];
    private ReadOnlyMemory<char>?[] _nullableSlices = [];

    public override DataField Field => _field;
    public override string DuckDbType => "VARCHAR";
    public override int Count => _filling.Count;
    public override long PayloadBytes => _filling.Chars * 2;

    public void Add(string? value)
    {
        if (value is null && !_field.IsNullable) throw new InvalidOperationException($"column {Name} is not nullable");
        var b = _filling;
        if (b.Count == b.Values.Length) Grow(ref b.Values, b.Count + 1);
        b.Values[b.Count++] = value;
        b.Chars += value?.Length ?? 0;
    }

    public override Func<ParquetRowGroupWriter, Task> Seal()
    {
        var full = _filling;
        (_filling, _spare) = (_spare, _filling);
        Array.Clear(_filling.Values, 0, _filling.Count); // let the strings of two row groups ago go
        _filling.Count = 0;
        _filling.Chars = 0;
        return rowGroup => Write(rowGroup, full);
    }

    private Task Write(ParquetRowGroupWriter rowGroup, Buffer b)
    {
        int n = b.Count;
        if (_field.IsNullable)
        {
            Grow(ref _nullableSlices, n);
            for (int i = 0; i < n; i++) _nullableSlices[i] = b.Values[i]?.AsMemory();
            return rowGroup.WriteAsync<ReadOnlyMemory<char>>(_field, _nullableSlices.AsMemory(0, n));
        }
        Grow(ref _slices, n);
        for (int i = 0; i < n; i++) _slices[i] = b.Values[i].AsMemory();
        return rowGroup.WriteAsync<ReadOnlyMemory<char>>(_field, _slices.AsMemory(0, n));
    }
}
