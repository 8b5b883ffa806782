namespace Ether.Replay.Analyzer.Tests.Support;

/// <summary>A trace exported into a scratch dataset, with a DuckDB session over it.</summary>
internal sealed class Exported : IDisposable
{
    private readonly TempDir _dir = new();

    public string Trace { get; }
    public string Dataset { get; }
    public ExportResult Result { get; }
    public AnalysisDatabase Db { get; }

    public Exported(Action<string> writeTrace, ExportOptions? options = null, string name = "sample.etrace")
    {
        Trace = _dir.File(name);
        writeTrace(Trace);
        Dataset = _dir.File("dataset");
        Result = TraceExporter.Export(Trace, Dataset, options);
        Db = AnalysisDatabase.Open(Dataset);
    }

    public List<object?[]> Rows(string sql) => Db.Rows(sql);

    public void Dispose()
    {
        Db.Dispose();
        _dir.Dispose();
    }
}
