namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class OepCandidatesTable : ExportTable
{
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<int> Image = new("image", "program image of the process (see unpack_layers.image)");
    public readonly ValueColumn<int> Layer = new("layer", "unpacking layer of the candidate's code");
    public readonly ValueColumn<ulong> Address = new("address", "the candidate original entry point");
    public readonly ValueColumn<long> Step = new("step", "first step that executed it with this evidence");
    public readonly ValueColumn<int> Tid = new("tid", "thread that executed it");
    public readonly StringColumn Evidence = new("evidence", "how it was found: entry-state, elf-header, exec-entry, from-interpreter, deepest-layer (strongest first; docs/analyses.md)");
    public readonly ValueColumn<int> Rank = new("rank", "strength of the evidence: 1 = strongest");
    public readonly ValueColumn<bool> Chosen = new("chosen", "the image's original entry point: the strongest evidence, earliest step");
    public readonly StringColumn Detail = new("detail", "the evidence in words (registers, addresses, steps)");

    public OepCandidatesTable() : base("oep_candidates", "Original-entry-point candidates of each program image with written code, each with its evidence; one is chosen per image.")
        => Declare(Pid, Image, Layer, Address, Step, Tid, Evidence, Rank, Chosen, Detail);
}
