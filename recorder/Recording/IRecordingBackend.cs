namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// A tracing backend behind the one entry point (<see cref="TraceRecorder"/>): it records one
/// request into a trace until the target ends or <see cref="RecordingControl"/> asks it to stop,
/// and always closes the trace with the reason (never loses what was recorded). Set-up problems
/// are <see cref="RecordingSetupException"/>s thrown before anything is recorded.
/// </summary>
internal interface IRecordingBackend
{
    /// <summary>Runs the recording on the calling thread; <paramref name="progress"/> is updated as it goes.</summary>
    RecordingResult Record(RecordingControl control, RecordingProgress? progress);
}
