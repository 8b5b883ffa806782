namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// What every backend's options share — where the trace goes and how long recording may last —
/// and which backend they are for: each backend's options (<c>PtraceRecordOptions</c>,
/// <c>XenRecordOptions</c>) derive from this and create their backend.
/// </summary>
public abstract record RecordingRequest
{
    /// <summary>The .etrace file to write.</summary>
    public required string OutputPath { get; init; }
    /// <summary>Stop after this long; null = no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Checks the request and creates its backend; throws <see cref="RecordingSetupException"/> (one line) when it cannot start.</summary>
    internal abstract IRecordingBackend CreateBackend();
}
