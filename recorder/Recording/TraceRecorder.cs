namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// The one entry point for every backend: options → backend, one stop control (Ctrl-C, the time
/// limit), progress, one result, one set-up error type. `ether record` and `ether record xen` both
/// come through here.
/// </summary>
public static class TraceRecorder
{
    /// <summary>Records <paramref name="request"/>; throws <see cref="RecordingSetupException"/> when the recording cannot start.</summary>
    public static RecordingResult Record(RecordingRequest request, RecordingControl? control = null, RecordingProgress? progress = null)
    {
        control ??= new RecordingControl();
        var backend = request.CreateBackend();
        // Backends may also check the deadline themselves between events; this timer covers one
        // that is blocked waiting (RecordingControl then wakes it).
        using var timer = request.Timeout is { } limit
            ? new Timer(_ => control.RequestStop(StopReason.Timeout, TimeoutDetail(limit)), null, limit, System.Threading.Timeout.InfiniteTimeSpan)
            : null;
        return backend.Record(control, progress);
    }

    /// <summary>The stop detail of a time limit: "timeout after 1.5 s".</summary>
    public static string TimeoutDetail(TimeSpan limit) => $"timeout after {limit.TotalSeconds:0.###} s";
}
