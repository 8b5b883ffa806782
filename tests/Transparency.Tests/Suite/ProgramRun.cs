namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>What one run of a suite program printed and how it ended.</summary>
public sealed record ProgramRun(string Stdout, int? ExitCode, int? Signal, string Detail = "")
{
    /// <summary>The verdict line: the first line starting with CLEAN or DETECTED, or a description of its absence.</summary>
    public string Verdict =>
        Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("CLEAN", StringComparison.Ordinal) || l.StartsWith("DETECTED", StringComparison.Ordinal))
        ?? (Signal is { } s ? $"(no verdict: killed by signal {s})" : $"(no verdict: exit {ExitCode})");

    public bool Clean => Verdict == "CLEAN" && ExitCode == 0;

    public override string ToString() => $"{Verdict} [exit {ExitCode?.ToString() ?? "-"}, signal {Signal?.ToString() ?? "-"}] {Detail}\n--- stdout\n{Stdout}";
}
