namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>What `ether record xen` was asked to do.</summary>
public sealed record XenRecordOptions : RecordingRequest
{
    /// <summary>Where the frames come from: a live domain, a replayed session file, or a frame stream captured earlier.</summary>
    public ulong? Domain { get; init; }
    public string? ReplaySession { get; init; }
    public string? FramesFile { get; init; }

    public string? AgentPath { get; init; }
    public string Guest { get; init; } = "winxp-sp2";
    public string? Process { get; init; }
    public string? Cr3 { get; init; }
    public bool SingleStep { get; init; }
    public bool Syscalls { get; init; }
    public bool MemoryWrites { get; init; }
    public bool Unpack { get; init; }
    public bool UserOnly { get; init; }
    /// <summary>How long the guest may wait for the recorder before the agent lets it run on (the agent's --timeout-ms).</summary>
    public int? TimeoutMs { get; init; }

    internal override IRecordingBackend CreateBackend() => new XenBackend(this);
}
