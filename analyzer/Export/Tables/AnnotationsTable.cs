using Ether.Replay.Analyzer.Export.Columns;

namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class AnnotationsTable : ExportTable
{
    public readonly ValueColumn<long> Step = new("step", "step it was written at");
    public readonly ValueColumn<int> Pid = new("pid", "process id (0 when not about one)");
    public readonly ValueColumn<int> Tid = new("tid", "thread id (0 when not about one)");
    public readonly StringColumn Key = new("key", "what kind of note");
    public readonly StringColumn Text = new("text", "the note");

    public AnnotationsTable() : base("annotations", "Free-form notes the recorder or backend wrote into the trace.")
        => Declare(Step, Pid, Tid, Key, Text);
}
