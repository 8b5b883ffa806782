using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Text;

/// <summary>
/// The one wording of why a recording stopped, for every place that shows it: the recorder's
/// summary (`ether record`, `ether record xen`), `ether info`, the analyzer's reports and the
/// exported `traces.stop_reason` column.
/// </summary>
public static class StopReasonText
{
    /// <summary>The short machine name (Parquet column values, JSON): "max-steps", "target-crashed", ...</summary>
    public static string Name(StopReason reason) => reason switch
    {
        StopReason.Exited => "exited",
        StopReason.MaxSteps => "max-steps",
        StopReason.Timeout => "timeout",
        StopReason.Interrupted => "interrupted",
        StopReason.TargetCrashed => "target-crashed",
        StopReason.RecorderError => "recorder-error",
        StopReason.Closed => "closed",
        _ => "unknown",
    };

    /// <summary>For people: "step limit reached (--max-steps)", "the target crashed", ...</summary>
    public static string Describe(StopReason reason) => reason switch
    {
        StopReason.Exited => "the target exited",
        StopReason.MaxSteps => "step limit reached (--max-steps)",
        StopReason.Timeout => "time limit reached (--timeout)",
        StopReason.Interrupted => "interrupted (Ctrl-C / SIGTERM)",
        StopReason.TargetCrashed => "the target crashed",
        StopReason.RecorderError => "recorder error",
        StopReason.Closed => "closed by its writer",
        _ => "unknown",
    };

    /// <summary>The description with the recorder's detail in parentheses when there is one:
    /// "the target crashed (pid 12 killed by SIGSEGV)".</summary>
    public static string Describe(StopReason reason, string detail) =>
        detail.Length > 0 ? $"{Describe(reason)} ({detail})" : Describe(reason);
}
