using System.Runtime.CompilerServices;
using Parquet;

namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// A table whose every row is something one thread did or saw at one step (an instruction, a write,
/// a register change, a side event): its first three columns are that step, pid and tid, declared
/// here once and filled by <see cref="BeginRow(long, int, int)"/>. Each table words their meaning for
/// its own rows (docs/schema.md shows those words).
/// </summary>
internal abstract class StepRowsTable : ExportTable
{
    public readonly ValueColumn<long> Step;
    public readonly ValueColumn<int> Pid;
    public readonly ValueColumn<int> Tid;

    /// <param name="stepHint">Delta encoding for the tables with a row per step or more (steps rise by one).</param>
    protected StepRowsTable(string name, string description, string step, string pid = "process id", string tid = "thread id",
        EncodingHint? stepHint = null)
        : base(name, description)
    {
        Step = new("step", step) { Hint = stepHint };
        Pid = new("pid", pid);
        Tid = new("tid", tid);
        Declare(Step, Pid, Tid);
    }

    /// <summary>Starts a row with its step, pid and tid; the table's own columns and <see cref="ExportTable.EndRow"/> follow.</summary>
    /// <remarks>Inlined: the importer calls it once per instruction, write and register change, where it
    /// stood as three adds before.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BeginRow(long step, int pid, int tid)
    {
        Step.Add(step);
        Pid.Add(pid);
        Tid.Add(tid);
    }

    /// <summary>Starts the row of a side event (its step, pid and tid).</summary>
    public void BeginRow(TraceEvent e) => BeginRow(e.Step, e.Pid, e.Tid);
}
