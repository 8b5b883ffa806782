using Ether.Replay.Analyzer.Export.Tables;

namespace Ether.Replay.Analyzer.Export.Importers;

/// <summary>
/// Cuts each thread's instruction stream into dynamic basic blocks: a block ends after an
/// instruction that can transfer control, or when the next instruction is not the fall-through (a
/// signal, a thread switch inside a block cannot happen: state is per thread) or changes layer.
/// Counts executions per distinct block; memory is bounded by the distinct code executed.
/// </summary>
internal sealed class BasicBlockTracker
{
    /// <summary>Very long straight-line runs are cut, so a block's bytes stay bounded.</summary>
    private const int MaxBlockBytes = 4096;

    private readonly record struct Key(int Pid, ulong Start, int Length, int Layer);

    private sealed class Block
    {
        public int Instructions;
        public long Executions;
        public long FirstStep;
        public byte[] Bytes = [];
    }

    private readonly Dictionary<Key, Block> _blocks = new();

    public int Count => _blocks.Count;

    /// <summary>One executed instruction of thread <paramref name="t"/>; <paramref name="endsBlock"/>: it can jump.</summary>
    public void OnInstruction(ThreadState t, long step, ulong rip, ReadOnlySpan<byte> code, int layer, bool endsBlock)
    {
        if (t.BlockOpen && (rip != t.NextRip || layer != t.BlockLayer || t.BlockLength + code.Length > MaxBlockBytes))
            Close(t);
        if (!t.BlockOpen)
        {
            t.BlockOpen = true;
            t.BlockStart = rip;
            t.BlockFirstStep = step;
            t.BlockInstructions = 0;
            t.BlockLength = 0;
            t.BlockLayer = layer;
        }
        if (t.BlockLength + code.Length > t.BlockBytes.Length)
            Array.Resize(ref t.BlockBytes, Math.Max(t.BlockBytes.Length * 2, t.BlockLength + code.Length));
        code.CopyTo(t.BlockBytes.AsSpan(t.BlockLength));
        t.BlockLength += code.Length;
        t.BlockInstructions++;
        t.NextRip = rip + (ulong)code.Length;
        if (endsBlock) Close(t);
    }

    /// <summary>Ends the thread's open block (at thread exit and at the end of the trace).</summary>
    public void Close(ThreadState t)
    {
        if (!t.BlockOpen) return;
        t.BlockOpen = false;
        var key = new Key(t.Pid, t.BlockStart, t.BlockLength, t.BlockLayer);
        if (_blocks.TryGetValue(key, out var block))
        {
            block.Executions++;
            return;
        }
        _blocks.Add(key, new Block
        {
            Instructions = t.BlockInstructions,
            Executions = 1,
            FirstStep = t.BlockFirstStep,
            Bytes = t.BlockBytes.AsSpan(0, t.BlockLength).ToArray(),
        });
    }

    public void WriteTo(BasicBlocksTable table)
    {
        foreach (var (key, block) in _blocks.OrderBy(b => b.Key.Pid).ThenBy(b => b.Key.Start).ThenBy(b => b.Value.FirstStep))
        {
            table.Pid.Add(key.Pid);
            table.Start.Add(key.Start);
            table.End.Add(key.Start + (ulong)key.Length);
            table.Instructions.Add(block.Instructions);
            table.Layer.Add(key.Layer);
            table.Executions.Add(block.Executions);
            table.FirstStep.Add(block.FirstStep);
            table.Bytes.Add(block.Bytes);
            table.EndRow();
        }
    }
}
