namespace Ether.Replay.Formats.Model;

/// <summary>What was recorded, by what, where and when: the first frame of every .etrace file.</summary>
public sealed record TraceHeader
{
    /// <summary>Version of the Ether.Replay tool that wrote the file.</summary>
    public string ToolVersion { get; init; } = "";
    /// <summary>"ptrace", "xen", "synthetic", ...</summary>
    public string Backend { get; init; } = "";
    public IReadOnlyDictionary<string, string> BackendParameters { get; init; } = new Dictionary<string, string>();
    public string TargetPath { get; init; } = "";
    public IReadOnlyList<string> TargetArgv { get; init; } = [];
    /// <summary>Lower-case hex SHA-256 of the target executable; empty when unknown (e.g. a Xen guest).</summary>
    public string TargetSha256 { get; init; } = "";
    public string Architecture { get; init; } = "x86_64";
    public DateTimeOffset StartTime { get; init; }
    public string Host { get; init; } = "";
    /// <summary>Set by the reader: the format version found in the file.</summary>
    public int FormatVersion { get; init; }
}

/// <summary>Why recording ended, as stored in the footer.</summary>
public enum StopReason : byte
{
    /// <summary>No footer: the recorder was killed; the reader recovered what was complete.</summary>
    Unknown = 0,
    /// <summary>Every traced process exited.</summary>
    Exited = 1,
    MaxSteps = 2,
    Timeout = 3,
    /// <summary>Ctrl-C / SIGTERM to the recorder.</summary>
    Interrupted = 4,
    /// <summary>The target died of a signal.</summary>
    TargetCrashed = 5,
    /// <summary>The recorder hit an error it could not recover from; detail says which.</summary>
    RecorderError = 6,
    /// <summary>The writer was closed by its owner without a more specific reason.</summary>
    Closed = 7,
}
