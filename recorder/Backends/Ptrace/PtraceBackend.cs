using System.Diagnostics;
using System.Security.Cryptography;
using Ether.Replay.Formats.Log;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// The ptrace backend: checks the request (program, mode, sandbox, output), opens the writer,
/// runs the <see cref="PtraceSession"/> on its own tracer thread, and closes the trace with the
/// reason recording stopped — also on errors, so what was recorded is never lost. The sandbox's
/// scratch directory goes when recording ends, unless the user asked to keep it.
/// </summary>
internal sealed class PtraceBackend : IRecordingBackend
{
    private readonly PtraceRecordOptions _options;
    private readonly RecordingMode _mode;
    private readonly TargetProgram _program;

    public PtraceBackend(PtraceRecordOptions options)
    {
        _options = options;
        if (options.MaxSteps < 0) throw new RecordingSetupException("the step limit must be 0 or more");
        _mode = RecordingModes.Create(options.Mode);
        _program = TargetProgram.Resolve(options.Program, options.Arguments);
    }

    public RecordingResult Record(RecordingControl control, RecordingProgress? progress)
    {
        string output = Path.GetFullPath(_options.OutputPath);
        var sandbox = new Sandbox(_options.Sandbox);
        var header = TraceHeaders.Create("ptrace", Parameters(sandbox), _program.Path,
            [_options.Program, .. _options.Arguments], Sha256(_program.Path));

        TraceWriter writer;
        try
        {
            writer = TraceWriter.Create(output, header, _options.Writer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            sandbox.End();
            throw new RecordingSetupException($"cannot write {output}: {e.Message}");
        }

        var clock = Stopwatch.StartNew();
        var pipeline = new RecordingPipeline(writer, _options);
        var session = new PtraceSession(new LinuxPtrace(), pipeline, _options, _mode, control, progress);
        (StopReason Reason, string Detail) stop = (StopReason.RecorderError, "");
        Exception? failure = null;

        // Every ptrace request must come from the thread that seized the tracee.
        var tracer = new Thread(() =>
        {
            try { stop = session.Run(sandbox, _program); }
            catch (Exception e) { failure = e; }
        }, 16 << 20) { Name = "ptrace tracer", IsBackground = true };
        tracer.Start();
        tracer.Join();

        // A launch ended by a stop request (Ctrl-C while the sandbox shell started: the shell was
        // killed) is an interrupted recording, not a set-up error: the trace is kept and says why.
        if (failure is RecordingSetupException && control.StopRequested) (stop, failure) = ((control.Reason, control.Detail), null);
        if (failure is RecordingSetupException setup)
        {
            writer.Close(StopReason.RecorderError, setup.Message);
            writer.Dispose();
            TryDelete(output);
            sandbox.End();
            throw setup;
        }
        if (failure != null) stop = (StopReason.RecorderError, $"{failure.GetType().Name}: {failure.Message}");

        progress?.Update(writer);
        var result = RecordingResult.FromWriter(writer, output, stop.Reason, stop.Detail, clock.Elapsed) with
        {
            Processes = session.Processes,
            Threads = session.Threads,
            RootExitCode = session.RootExitCode,
            RootSignal = session.RootSignal,
            WorkingDirectory = sandbox.WorkingDirectory,
            WorkingDirectoryFate = sandbox.End(),
            BackendDetails = [.. _mode.Details],
        };
        writer.Close(stop.Reason, stop.Detail);
        long size = new FileInfo(output).Length;
        writer.Dispose();
        return result with { Bytes = size };
    }

    private Dictionary<string, string> Parameters(Sandbox sandbox)
    {
        var p = new Dictionary<string, string>
        {
            ["mode"] = _mode.Name,
            ["max_steps"] = _options.MaxSteps.ToString(),
            ["timeout_s"] = _options.Timeout?.TotalSeconds.ToString("0.###") ?? "",
            ["time_slice_steps"] = _options.TimeSliceSteps.ToString(),
            ["bound_to_one_cpu"] = _mode.PinsToOneCpu(_options).ToString().ToLowerInvariant(),
            ["kernel"] = Environment.OSVersion.VersionString,
            ["transparent"] = _options.Transparent.ToString().ToLowerInvariant(),
            ["clock_rate"] = _options.Transparent ? _options.ClockRate.ToString() : "",
            // What an XRSTOR reads on this CPU: the replay computes each step's reads with it.
            ["xsave_size"] = Instructions.HostCpu.XsaveAreaSize.ToString(),
        };
        foreach (var (k, v) in sandbox.Describe()) p["sandbox_" + k] = v;
        return p;
    }

    private static string Sha256(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(f));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
