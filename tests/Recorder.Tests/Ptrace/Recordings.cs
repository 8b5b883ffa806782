using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>One finished recording, read back with the trace reader.</summary>
internal sealed record RecordedRun(RecordingResult Result, TraceSummary Summary, List<TraceEvent> Events, string Stdout, string WorkingDirectory)
{
    public IEnumerable<T> Of<T>() where T : TraceEvent => Events.OfType<T>();
}

/// <summary>Runs the real recorder on a program and reads the trace back.</summary>
internal static class Recordings
{
    /// <param name="attach">Components the test plugs into the session (interceptors, step observers).</param>
    /// <param name="transparent">The transparency layer (docs/transparency.md), on by default as in `ether record`.</param>
    /// <param name="isolateNetwork">The sample's own network namespace (false: --allow-network).</param>
    public static RecordedRun Record(string program, string[] arguments, string mode = RecordingModes.Full, long maxSteps = 0,
        Action<SessionHooks>? attach = null, bool transparent = true, bool isolateNetwork = true)
    {
        var dir = Directory.CreateTempSubdirectory("ether-test-record-").FullName;
        string output = Path.Combine(dir, "test.etrace");
        string stdout = Path.Combine(dir, "stdout.txt");
        var result = TraceRecorder.Record(new PtraceRecordOptions
        {
            Program = program,
            Arguments = arguments,
            OutputPath = output,
            Mode = mode,
            MaxSteps = maxSteps,
            Timeout = TimeSpan.FromMinutes(3),
            Sandbox = new SandboxOptions { StdoutPath = stdout, StdinPath = "/dev/null", IsolateNetwork = isolateNetwork },
            Attach = attach,
            Transparent = transparent,
        });
        using var reader = TraceReader.Open(output);
        var events = reader.Events().ToList();
        var run = new RecordedRun(result, reader.Summary, events, File.ReadAllText(stdout), result.WorkingDirectory);
        Directory.Delete(dir, recursive: true);
        Assert.False(Directory.Exists(result.WorkingDirectory), "the scratch directory outlived the recording");
        return run;
    }
}

/// <summary>The recorder tests single-step real processes: one at a time keeps them fast on two cores.</summary>
[CollectionDefinition("ptrace", DisableParallelization = true)]
public sealed class PtraceCollection;
