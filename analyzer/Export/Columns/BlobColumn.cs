using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export.Columns;

/// <summary>
/// Bytes per row (instruction bytes, written values, snapshots), copied into one arena: the chunk the
/// bytes come from is reused as soon as it is imported. Slices are made when the rows are written,
/// so the arena can grow without leaving stale slices behind. Optionally nullable (an old value the
/// recorder did not keep).
/// </summary>
internal sealed class BlobColumn(string name, string description, bool nullable = false) : Column(name, description)
{
    private sealed class Buffer
    {
        public byte[] Arena = new byte[1 << 16];
        public int ArenaUsed;
        public int[] Offset = new int[1024];
        public int[] Length = new int[1024]; // -1 = null
        public int Count;
    }

    private readonly DataField<byte[]> _field = new(name, nullable);
    private Buffer _filling = new();
    private Buffer _spare = new();
    // Only one row group of a table is written at a time, so the two buffers share these.
    private ReadOnlyMemory<byte>[] _slices = [];
    private ReadOnlyMemory<byte>?[] _nullableSlices = [];

    public override DataField Field => _field;
    public override string DuckDbType => "BLOB";
    public override int Count => _filling.Count;
    public override long PayloadBytes => _filling.ArenaUsed;

    public void Add(ReadOnlySpan<byte> value)
    {
        var b = _filling;
        if (b.Count == b.Offset.Length)
        {
            Grow(ref b.Offset, b.Count + 1);
            Grow(ref b.Length, b.Count + 1);
        }
        if (b.ArenaUsed + value.Length > b.Arena.Length) Grow(ref b.Arena, b.ArenaUsed + value.Length);
        value.CopyTo(b.Arena.AsSpan(b.ArenaUsed));
        b.Offset[b.Count] = b.ArenaUsed;
        b.Length[b.Count++] = value.Length;
        b.ArenaUsed += value.Length;
    }

    public void AddNull()
    {
        if (!_field.IsNullable) throw new InvalidOperationException($"column {Name} is not nullable");
        var b = _filling;
        if (b.Count == b.Offset.Length)
        {
            Grow(ref b.Offset, b.Count + 1);
            Grow(ref b.Length, b.Count + 1);
        }
        b.Offset[b.Count] = 0;
        b.Length[b.Count++] = -1;
    }

    public override Func<ParquetRowGroupWriter, Task> Seal()
    {
        var full = _filling;
        (_filling, _spare) = (_spare, _filling);
        _filling.Count = 0;
        _filling.ArenaUsed = 0;
        // A huge snapshot should not pin its arena for the rest of the export.
        if (_filling.Arena.Length > 64 << 20) _filling.Arena = new byte[1 << 16];
        return rowGroup => Write(rowGroup, full);
    }

    private Task Write(ParquetRowGroupWriter rowGroup, Buffer b)
    {
        int n = b.Count;
        if (_field.IsNullable)
        {
            Grow(ref _nullableSlices, n);
            for (int i = 0; i < n; i++)
                // Spelled out: a bare `null` here would convert through byte[] into an *empty* ReadOnlyMemory.
                _nullableSlices[i] = b.Length[i] < 0 ? (ReadOnlyMemory<byte>?)null : b.Arena.AsMemory(b.Offset[i], b.Length[i]);
            return rowGroup.WriteAsync<ReadOnlyMemory<byte>>(_field, _nullableSlices.AsMemory(0, n));
        }
        Grow(ref _slices, n);
        for (int i = 0; i < n; i++) _slices[i] = b.Arena.AsMemory(b.Offset[i], b.Length[i]);
        return rowGroup.WriteAsync<ReadOnlyMemory<byte>>(_field, _slices.AsMemory(0, n));
    }
}
