namespace Ether.Replay.Formats.Log;

/// <summary>
/// Where a chunk is and what it holds, from the footer index or from scanning chunk headers.
/// Steps advanced inside the chunk are BaseStep+1 .. LastStep; its events carry steps in
/// [BaseStep, LastStep] (keyframes at the start of a chunk carry BaseStep).
/// </summary>
public sealed record ChunkInfo(int Seq, long Offset, int Length, long BaseStep, long LastStep, long[] Counts)
{
    public long Count(Model.EventKind kind) => (int)kind < Counts.Length ? Counts[(int)kind] : 0;
}
