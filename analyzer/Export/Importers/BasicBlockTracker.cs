using Ether.Replay.Analyzer.Export.Tables;

namespace Ether.Replay.Analyzer.Export.Importers;

/// <summary>
/// Cuts each thread's instruction stream into dynamic basic blocks: a block ends after an
/// instruction that can transfer control, or when the next instruction is not the fall-through (a
/// signal, a jump into the middle) or belongs to another layer. Counts executions per distinct block;
/// memory is bounded by the distinct code executed. The hot path only compares addresses: a block's
/// bytes are gathered from the chunk when the block is seen for the first time.
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
    private DecodedChunk? _chunk;
    private int[] _threadIndex = [];

    public int Count => _blocks.Count;

    /// <summary>A new chunk begins; <paramref name="threads"/> maps its thread indexes to thread states.</summary>
    public void BeginChunk(DecodedChunk chunk, ThreadState[] threads, int count)
    {
        _chunk = chunk;
        for (int t = 0; t < count; t++) threads[t].ChunkThread = t;
    }

    /// <summary>Instruction <paramref name="i"/> of the chunk, executed by <paramref name="t"/>; <paramref name="endsBlock"/>: it can jump.</summary>
    public void OnInstruction(ThreadState t, int i, long step, ulong rip, int length, int layer, bool endsBlock)
    {
        if (t.BlockOpen && (rip != t.NextRip || layer != t.BlockLayer || t.BlockLength + length > MaxBlockBytes))
            Close(t);
        if (!t.BlockOpen)
        {
            t.BlockOpen = true;
            t.BlockStart = rip;
            t.BlockFirstStep = step;
            t.BlockInstructions = 0;
            t.BlockLength = 0;
            t.BlockLayer = layer;
            t.BlockCarriedLength = 0;
            t.BlockChunkFirst = i;
        }
        else if (t.BlockChunkFirst < 0)
        {
            t.BlockChunkFirst = i;
        }
        t.BlockChunkLast = i;
        t.BlockLength += length;
        t.BlockInstructions++;
        t.NextRip = rip + (ulong)length;
        if (endsBlock) Close(t);
    }

    /// <summary>The chunk ends: open blocks keep the bytes they gathered in it.</summary>
    public void EndChunk(ReadOnlySpan<ThreadState> threads)
    {
        foreach (var t in threads)
        {
            if (t.BlockOpen && t.BlockChunkFirst >= 0) Carry(t);
            t.BlockChunkFirst = -1;
            t.ChunkThread = -1;
        }
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
        }
        else
        {
            if (t.BlockChunkFirst >= 0) Carry(t);
            _blocks.Add(key, new Block
            {
                Instructions = t.BlockInstructions,
                Executions = 1,
                FirstStep = t.BlockFirstStep,
                Bytes = t.BlockCarried.AsSpan(0, t.BlockCarriedLength).ToArray(),
            });
        }
        t.BlockChunkFirst = -1;
        t.BlockCarriedLength = 0;
    }

    /// <summary>Appends the block's instructions in the current chunk to its carried bytes.</summary>
    private void Carry(ThreadState t)
    {
        var c = _chunk!;
        for (int i = t.BlockChunkFirst; i <= t.BlockChunkLast && i < c.InstructionCount; i++)
        {
            if (c.InstructionThread[i] != t.ChunkThread) continue;
            var code = c.InstructionBytes(i);
            if (t.BlockCarriedLength + code.Length > t.BlockCarried.Length)
                Array.Resize(ref t.BlockCarried, Math.Max(t.BlockCarried.Length * 2, t.BlockCarriedLength + code.Length));
            code.CopyTo(t.BlockCarried.AsSpan(t.BlockCarriedLength));
            t.BlockCarriedLength += code.Length;
        }
        t.BlockChunkFirst = -1;
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
