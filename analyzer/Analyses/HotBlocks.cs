using Ether.Replay.Analyzer.Query;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>`ether hot`: the hottest dynamic basic blocks, with execution counts and disassembly.</summary>
public static class HotBlocks
{
    public sealed record Block(string Trace, int Pid, ulong Start, ulong End, int Layer, long Executions, int Instructions,
        long InstructionsExecuted, double Percent, long FirstStep, byte[] Bytes, int Bits);

    public static List<Block> Rows(AnalysisDatabase db, int top = 20, string? trace = null, int? pid = null) =>
        ShippedQuery.Run(db, "hot_blocks.sql", new Dictionary<string, object?> { ["trace"] = trace, ["pid"] = pid, ["top"] = top })
            .Select(r => new Block(r.Text("trace")!, r.Get<int>("pid"), r.Get<ulong>("start_address"), r.Get<ulong>("end_address"),
                r.Get<int>("layer"), r.Get<long>("executions"), r.Get<int>("instructions"), r.Get<long>("instructions_executed"),
                r.Get<double>("percent"), r.Get<long>("first_step"), (byte[])r["bytes"]!, r.Get<int>("bits")))
            .ToList();

    /// <summary>Each block with its disassembly, in its trace's bitness.</summary>
    public static void Write(IReadOnlyList<Block> blocks, TextWriter output)
    {
        var disassemblers = new Dictionary<int, Disassembly.Disassembler>();
        int rank = 0;
        foreach (var b in blocks)
        {
            if (!disassemblers.TryGetValue(b.Bits, out var disassembler)) disassemblers[b.Bits] = disassembler = new Disassembly.Disassembler(b.Bits);
            rank++;
            output.WriteLine($"#{rank}  0x{b.Start:x}-0x{b.End:x}  pid {b.Pid}  layer {b.Layer}  executed {b.Executions:N0} times x {b.Instructions} instructions = {b.InstructionsExecuted:N0} ({b.Percent:F2}% of instructions)  first at step {b.FirstStep}");
            foreach (var (rip, length, text) in disassembler.Lines(b.Bytes, b.Start))
            {
                var bytes = Convert.ToHexString(b.Bytes, (int)(rip - b.Start), Math.Min(length, b.Bytes.Length - (int)(rip - b.Start))).ToLowerInvariant();
                output.WriteLine($"    0x{rip:x}  {bytes,-22} {text}");
            }
        }
        if (blocks.Count == 0) output.WriteLine("no instructions in the trace");
    }
}
