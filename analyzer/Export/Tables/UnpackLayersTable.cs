namespace Ether.Replay.Analyzer.Export.Tables;

internal sealed class UnpackLayersTable : ExportTable
{
    public readonly ValueColumn<int> Pid = new("pid", "process id");
    public readonly ValueColumn<int> Image = new("image", "which program image of the process: 0 until its first exec seen in the trace, then 1, 2, …");
    public readonly ValueColumn<int> Layer = new("layer", "0 = code that was loaded, not written; L+1 = code written by layer L (instructions or the kernel on its behalf) and then executed");
    public readonly ValueColumn<long> FirstStep = new("first_step", "first instruction executed in this layer");
    public readonly ValueColumn<long> LastStep = new("last_step", "last instruction executed in this layer");
    public readonly ValueColumn<ulong> EntryAddress = new("entry_address", "address of that first instruction: for the last layer of the main image, the original-entry-point candidate");
    public readonly ValueColumn<int> EntryTid = new("entry_tid", "thread that entered the layer");
    public readonly NullableColumn<ulong> RegionStart = new("region_start", "start of the memory region holding the entry (mapping, or the written pages around it without map events)");
    public readonly NullableColumn<ulong> RegionEnd = new("region_end", "end of that region");
    public readonly StringColumn RegionName = new("region_name", "backing file / [heap] / empty for anonymous memory; null when unknown", nullable: true);
    public readonly ValueColumn<bool> MainImage = new("main_image", "the region belongs to the program's own executable image");
    public readonly ValueColumn<long> BytesWritten = new("bytes_written", "bytes of the region written by the previous layer when this layer was entered (0 for layer 0)");
    public readonly NullableColumn<ulong> WriterRipMin = new("writer_rip_min", "lowest address of an instruction that wrote those bytes (null for layer 0)");
    public readonly NullableColumn<ulong> WriterRipMax = new("writer_rip_max", "highest such address");
    public readonly NullableColumn<long> WriterFirstStep = new("writer_first_step", "first write of those bytes");
    public readonly NullableColumn<long> WriterLastStep = new("writer_last_step", "last write of those bytes before the layer was entered");
    public readonly ValueColumn<long> KernelBytes = new("kernel_bytes", "of bytes_written, how many the kernel wrote (read(2) of code from a file, …)");
    public readonly ValueColumn<long> Instructions = new("instructions", "instructions executed in this layer");
    public readonly ValueColumn<long> FixupBytes = new("fixup_bytes", "bytes of this layer that deeper code rewrote before they first ran (a fix-up pass such as UPX's call filter: part of this layer's unpacking episode, not a layer of its own), counted over the image");
    public readonly StringColumn Arrival = new("arrival", "how the code came to be: loaded (layer 0), written-code (written in memory by the previous layer), exec-of-written-file or memfd (a file the trace wrote, exec'd or mapped)");
    public readonly StringColumn Chain = new("chain", "for a layer that arrived as a file: which process wrote the file and with which calls; null otherwise", nullable: true);
    public readonly ValueColumn<bool> Oep = new("oep", "the chosen original entry point of the image (oep_candidates.chosen) lies in this row's layer and region");

    public UnpackLayersTable() : base("unpack_layers", "Unpacking layers (SoK on runtime packers): code executed from memory written earlier in the trace. One row per layer entered in a memory region: (process, image, layer, region).")
        => Declare(Pid, Image, Layer, FirstStep, LastStep, EntryAddress, EntryTid, RegionStart, RegionEnd, RegionName, MainImage,
            BytesWritten, WriterRipMin, WriterRipMax, WriterFirstStep, WriterLastStep, KernelBytes, Instructions, FixupBytes, Arrival, Chain, Oep);
}
