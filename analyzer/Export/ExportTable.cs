using Parquet;
using Parquet.Schema;

namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// One table of the dataset for one trace: its columns (declared by the subclass) and the part files
/// it writes under <c>DIR/&lt;table&gt;/trace=&lt;id&gt;/</c>. Rows are appended column by column by
/// the importers; <see cref="EndRow"/> cuts a row group when enough rows or bytes are buffered.
/// A sealed row group is compressed and written by a background task while the importers fill the
/// next one (one row group in flight per table), which puts the second core to work.
/// </summary>
internal abstract class ExportTable : IAsyncDisposable
{
    private readonly List<Column> _columns = new();
    private ExportOptions _options = new();
    private string? _directory;
    private ParquetSchema? _schema;
    private ParquetWriter? _writer;
    private Stream? _file;
    private int _part;
    private int _rowGroupsInPart;
    private int _rows;
    private Task _pending = Task.CompletedTask;

    protected ExportTable(string name, string description)
    {
        TableName = name;
        Description = description;
    }

    public string TableName { get; }
    public string Description { get; }
    public IReadOnlyList<Column> Columns => _columns;
    /// <summary>Rows sealed into row groups so far.</summary>
    public long RowsWritten { get; private set; }
    /// <summary>Rows written plus rows still buffered.</summary>
    public long Rows => RowsWritten + _rows;
    public int PartsWritten { get; private set; }

    /// <summary>The columns in file order; called once by each table's constructor.</summary>
    protected void Declare(params Column[] columns) => _columns.AddRange(columns);

    public ParquetSchema Schema => _schema ??= new ParquetSchema(_columns.Select(c => c.Field).ToArray());

    /// <summary>Where this table's part files go; nothing is created until the first row group (or Close).</summary>
    public void Begin(string directory, ExportOptions options)
    {
        _directory = directory;
        _options = options;
    }

    /// <summary>Call after every column of a row got its value.</summary>
    public void EndRow()
    {
        _rows++;
        if (_rows >= _options.RowGroupRows || ((_rows & 255) == 0 && PayloadBytes() >= _options.RowGroupBytes))
            FlushRowGroup();
    }

    private long PayloadBytes()
    {
        long n = 0;
        foreach (var c in _columns) n += c.PayloadBytes;
        return n;
    }

    public void FlushRowGroup()
    {
        if (_rows == 0) return;
        foreach (var c in _columns)
            if (c.Count != _rows) throw new InvalidOperationException($"{TableName}.{c.Name} has {c.Count} values for {_rows} rows");
        _pending.GetAwaiter().GetResult(); // the spare buffers are free again; rethrows a failed write
        var writes = new Func<ParquetRowGroupWriter, Task>[_columns.Count];
        for (int i = 0; i < writes.Length; i++) writes[i] = _columns[i].Seal();
        RowsWritten += _rows;
        _rows = 0;
        if (_options.DiscardRows) return;
        _pending = _options.BackgroundWrites ? Task.Run(() => WriteRowGroup(writes)) : WriteRowGroup(writes);
    }

    private async Task WriteRowGroup(Func<ParquetRowGroupWriter, Task>[] writes)
    {
        var writer = await Writer();
        using (var rowGroup = writer.CreateRowGroup())
        {
            foreach (var write in writes) await write(rowGroup);
            rowGroup.CompleteValidate();
        }
        if (++_rowGroupsInPart >= _options.RowGroupsPerPart) await ClosePart();
    }

    private async Task<ParquetWriter> Writer()
    {
        if (_writer != null) return _writer;
        if (_directory == null) throw new InvalidOperationException($"table {TableName} was not begun");
        Directory.CreateDirectory(_directory);
        var file = new FileStream(Path.Combine(_directory, $"part-{_part:D5}.parquet"), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        // Without background writes the whole export stays on the caller's thread (see CallerThreadStream).
        _file = _options.BackgroundWrites ? file : new CallerThreadStream(file);
        var options = new ParquetOptions
        {
            CompressionMethod = CompressionMethod.Zstd,
            CompressionLevel = _options.Compression,
            // Decide dictionary-or-not from a sample, not a scan of the whole row group: register
            // values and addresses are mostly unique and the full scan costs as much as writing them.
            DictionaryEncodingSampleSize = 8192,
        };
        foreach (var c in _columns)
            if (c.Hint is { } hint) options.ColumnEncodingHints[c.Field.Path.ToString()] = hint;
        _writer = await ParquetWriter.CreateAsync(Schema, _file, options);
        _part++;
        PartsWritten++;
        _rowGroupsInPart = 0;
        return _writer;
    }

    private async Task ClosePart()
    {
        if (_writer == null) return;
        await _writer.DisposeAsync();
        await _file!.DisposeAsync();
        _writer = null;
        _file = null;
    }

    /// <summary>Writes what is buffered and closes the part. A table with no rows still gets one
    /// empty part, so every reader sees every table's columns and types.</summary>
    public void Close()
    {
        FlushRowGroup();
        _pending.GetAwaiter().GetResult();
        if (PartsWritten == 0) Writer().GetAwaiter().GetResult();
        ClosePart().GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        try { await _pending; } catch (Exception) { /* the export already failed; just release files */ }
        if (_writer != null) await _writer.DisposeAsync();
        if (_file != null) await _file.DisposeAsync();
        _writer = null;
        _file = null;
    }
}
