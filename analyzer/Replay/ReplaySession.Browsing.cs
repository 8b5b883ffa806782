namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// What a trace browser needs on top of the queries: every step with what happened during it (for a
/// list that marks system calls inline), the next or previous event of a kind (jumps that skip the
/// chunks whose counts say they hold none), the index built on a reader of its own so the session
/// stays usable meanwhile, and a second session on the same file sharing that index (for slow work
/// on another thread).
/// </summary>
public sealed partial class ReplaySession
{
    /// <summary>The trace file this session reads.</summary>
    public string Path { get; private init; } = "";

    /// <summary>Steps <paramref name="fromStep"/> .. +count-1 (within 1..LastStep): the instruction of each
    /// (none for a tick) and the events logged during it, keyframes left out.</summary>
    public IReadOnlyList<StepRow> StepsPage(long fromStep, int count)
    {
        var rows = new List<StepRow>(Math.Clamp(count, 0, 4096));
        fromStep = Math.Max(1, fromStep);
        if (count <= 0 || fromStep > LastStep) return rows;
        long toStep = Math.Min(LastStep, fromStep + count - 1);
        for (int j = ChunkOf(fromStep); j < _reader.Chunks.Count; j++)
        {
            var info = _reader.Chunks[j];
            if (info.BaseStep > toStep) break;
            var chunk = _chunks.Get(j);
            var side = chunk.SideEvents;
            int i = RegisterReplay.LowerBound(chunk.InstructionStep, chunk.InstructionCount, fromStep);
            int s = 0;
            // Events at the chunk's base step happened during the previous chunk's last step.
            for (; s < side.Count && side[s].Step <= info.BaseStep; s++)
                if (side[s].Step == info.BaseStep && side[s] is not KeyframeEvent && rows.Count > 0 && rows[^1].Step == info.BaseStep)
                    ((List<TraceEvent>)rows[^1].Events).Add(side[s]);
            for (long step = Math.Max(fromStep, info.BaseStep + 1); step <= Math.Min(toStep, info.LastStep); step++)
            {
                InstructionRow? instruction = null;
                if (i < chunk.InstructionCount && chunk.InstructionStep[i] == step) instruction = Row(chunk, i++);
                var events = new List<TraceEvent>();
                while (s < side.Count && side[s].Step < step) s++;
                for (; s < side.Count && side[s].Step == step; s++)
                    if (side[s] is not KeyframeEvent) events.Add(side[s]);
                rows.Add(new StepRow(step, instruction, events));
            }
        }
        return rows;
    }

    /// <summary>The first event of <paramref name="kind"/> logged after step <paramref name="step"/> (of process
    /// <paramref name="pid"/> when given); chunks whose counts hold none of the kind are not decoded.</summary>
    public TraceEvent? NextEvent(long step, EventKind kind, int? pid = null)
    {
        if (step >= LastStep) return null;
        for (int j = ChunkOf(Math.Max(0, step)); j < _reader.Chunks.Count; j++)
        {
            if (_reader.Chunks[j].Count(kind) == 0) continue;
            foreach (var e in _chunks.Get(j, registerChanges: false).SideEvents)
                if (e.Step > step && e.Kind == kind && (pid == null || e.Pid == pid)) return e;
        }
        return null;
    }

    /// <summary>The last event of <paramref name="kind"/> logged before step <paramref name="step"/>.</summary>
    public TraceEvent? PreviousEvent(long step, EventKind kind, int? pid = null)
    {
        if (step <= 0) return null;
        for (int j = ChunkOf(Math.Min(step, LastStep)); j >= 0; j--)
        {
            if (_reader.Chunks[j].Count(kind) == 0) continue;
            var side = _chunks.Get(j, registerChanges: false).SideEvents;
            for (int s = side.Count - 1; s >= 0; s--)
                if (side[s].Step < step && side[s].Kind == kind && (pid == null || side[s].Pid == pid)) return side[s];
        }
        return null;
    }

    /// <summary>
    /// Builds the per-chunk index on a reader of its own, so this session keeps answering register and
    /// instruction queries meanwhile (a browser's first screen must not wait for a pass over the trace).
    /// Until the task completes, <see cref="IndexBuilt"/> is false and a query that needs the index would
    /// build one itself on the calling thread.
    /// </summary>
    public Task BuildIndexAsync(Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        if (_index != null) return Task.CompletedTask;
        return Task.Run(() => BuildIndexOnOwnReader(progress, cancel), cancel);
    }

    /// <summary><see cref="BuildIndexAsync"/> on the calling thread (a caller that picks the thread, e.g. one
    /// of low priority). Safe to run while this session is used on another thread.</summary>
    public void BuildIndexOnOwnReader(Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        if (_index != null) return;
        int chunks = _reader.Chunks.Count;
        using var reader = TraceReader.Open(Path);
        if (reader.Chunks.Count != chunks) return; // the file changed under us: leave it to the first query
        var index = ReplayIndex.Build(reader, (done, total) =>
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Invoke(done, total);
        });
        Interlocked.CompareExchange(ref _index, index, null);
    }

    /// <summary>A second session on the same file that shares this one's index (if built): for work on
    /// another thread, since a session is not thread-safe.</summary>
    public ReplaySession Fork()
    {
        var fork = Open(Path);
        fork._index = _index;
        return fork;
    }
}
