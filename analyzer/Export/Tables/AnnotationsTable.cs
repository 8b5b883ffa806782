namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class AnnotationsTable : StepRowsTable
{
    public readonly StringColumn Key = new("key", "what kind of note");
    public readonly StringColumn Text = new("text", "the note");

    public AnnotationsTable() : base("annotations", "Free-form notes the recorder or backend wrote into the trace.",
        step: "step it was written at", pid: "process id (0 when not about one)", tid: "thread id (0 when not about one)")
        => Declare(Key, Text);
}
