namespace Ether.Replay.Analyzer.Analyses;

/// <summary>Which calls a syscall listing or summary covers (strace's -e trace=… and -p).</summary>
public sealed record SyscallFilter
{
    public string? Trace { get; init; }
    public int? Pid { get; init; }
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>Parses strace's <c>-e</c> value: "open,read", "trace=open,read".</summary>
    public static IReadOnlyList<string> ParseNames(string value)
    {
        string list = value.StartsWith("trace=", StringComparison.Ordinal) ? value["trace=".Length..] : value;
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new AnalysisInputException($"-e {value}: no system call names");
        return names;
    }

    public Dictionary<string, object?> Variables() => new()
    {
        ["trace"] = Trace,
        ["pid"] = Pid,
        ["names"] = Names,
    };
}
