namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// Where an event sits in log order inside a chunk: by step, then the step's instruction first,
/// then its writes and side events in the order they were logged (a side event preceded by k writes
/// sorts between write k-1 and write k). The log order is the truth: an event describes the state
/// at its position.
/// </summary>
internal readonly record struct LogPosition(long Step, int Phase, int Ordinal) : IComparable<LogPosition>
{
    public static LogPosition Instruction(long step) => new(step, 0, 0);
    public static LogPosition Write(long step, int write) => new(step, 1, 2 * write + 1);
    public static LogPosition Side(long step, int writesBefore) => new(step, 1, 2 * writesBefore);

    public int CompareTo(LogPosition o) =>
        Step != o.Step ? Step.CompareTo(o.Step) : Phase != o.Phase ? Phase.CompareTo(o.Phase) : Ordinal.CompareTo(o.Ordinal);

    public static bool operator >(LogPosition a, LogPosition b) => a.CompareTo(b) > 0;
    public static bool operator <(LogPosition a, LogPosition b) => a.CompareTo(b) < 0;
}
