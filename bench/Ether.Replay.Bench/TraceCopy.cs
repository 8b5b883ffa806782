namespace Ether.Replay.Bench;

/// <summary>Re-writes a trace event by event with other writer options (e.g. format version 1, the
/// baseline of `bench format`), ending chunks where the original ended them so both compare alike — or,
/// with <c>chunkLength</c> k &gt; 1, only where every k-th original chunk ended: the chunks a recorder
/// with a k times longer <see cref="TraceWriterOptions.ChunkAge"/> would have written (the step limit,
/// <see cref="TraceWriterOptions.ChunkSteps"/> of <paramref name="options"/>, still applies).</summary>
internal static class TraceCopy
{
    public static void Copy(string from, string to, TraceWriterOptions options, int chunkLength = 1)
    {
        using var reader = TraceReader.Open(from);
        options = options with
        {
            ChunkSteps = chunkLength > 1 ? options.ChunkSteps : int.MaxValue,
            ChunkBytes = int.MaxValue,
            ChunkAge = TimeSpan.FromDays(1),
        };
        using var w = TraceWriter.Create(to, reader.Header, options);
        var known = new HashSet<(int, int)>();
        var chunk = new DecodedChunk();
        for (int i = 0; i < reader.Chunks.Count; i++)
        {
            reader.ReadChunk(i, chunk);
            if (i % Math.Max(1, chunkLength) == 0) w.Flush();
            foreach (var e in ChunkEvents.InLogOrder(chunk))
            {
                switch (e)
                {
                    // A chunk's opening keyframes: the writer repeats them itself for the threads it knows.
                    case KeyframeEvent k when k.Step == chunk.Info.BaseStep && known.Contains((k.Pid, k.Tid)):
                        break;
                    case KeyframeEvent k:
                        known.Add((k.Pid, k.Tid));
                        w.Registers(k.Pid, k.Tid, k.Registers);
                        break;
                    case RegisterChangeEvent r:
                        w.Registers(r.Pid, r.Tid, r.Registers);
                        break;
                    case ThreadExitEvent:
                        known.Remove((e.Pid, e.Tid));
                        w.Write(e);
                        break;
                    case ProcessExitEvent:
                        known.RemoveWhere(t => t.Item1 == e.Pid);
                        w.Write(e);
                        break;
                    default:
                        w.Write(e);
                        break;
                }
            }
        }
        w.Close(reader.Summary.StopReason, reader.Summary.StopDetail);
    }
}
