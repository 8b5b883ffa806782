namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class LayerTransitionsTable : ExportTable
{
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<int> Tid = new("tid", "thread id");
    public readonly ValueColumn<int> Image = new("image", "program image of the process (see unpack_layers.image)");
    public readonly ValueColumn<long> Step = new("step", "step of the first instruction in the new layer");
    public readonly ValueColumn<int> FromLayer = new("from_layer", "layer of the thread's previous instruction");
    public readonly ValueColumn<int> ToLayer = new("to_layer", "layer of this instruction");
    public readonly ValueColumn<ulong> FromRip = new("from_rip", "address of the previous instruction (the jump, call or return)");
    public readonly ValueColumn<ulong> ToRip = new("to_rip", "address of this instruction");

    public LayerTransitionsTable() : base("layer_transitions", "Every time a thread's execution passes from one unpacking layer to another.")
        => Declare(Pid, Tid, Image, Step, FromLayer, ToLayer, FromRip, ToRip);
}
