namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class BasicBlocksTable : ExportTable
{
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<ulong> Start = new("start", "address of the block's first instruction");
    public readonly ValueColumn<ulong> End = new("end", "address after its last instruction");
    public readonly ValueColumn<int> Instructions = new("instructions", "instructions in the block");
    public readonly ValueColumn<int> Layer = new("layer", "unpacking layer of its code");
    public readonly ValueColumn<long> Executions = new("executions", "times the block ran from its first instruction");
    public readonly ValueColumn<long> FirstStep = new("first_step", "step of its first execution");
    public readonly BlobColumn Bytes = new("bytes", "its code; `disasm(bytes, start)` lists every instruction");

    public BasicBlocksTable() : base("basic_blocks", "Dynamic basic blocks: straight runs of executed instructions ending at a control transfer (jump, call, return, system call) or where the next instruction did not follow. One row per distinct block (process, start, code).")
        => Declare(Pid, Start, End, Instructions, Layer, Executions, FirstStep, Bytes);
}
