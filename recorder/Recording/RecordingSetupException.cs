namespace Ether.Replay.Recorder.Recording;

/// <summary>A problem found before or while starting the target; its message is one line for the user.</summary>
public sealed class RecordingSetupException(string message) : Exception(message);
