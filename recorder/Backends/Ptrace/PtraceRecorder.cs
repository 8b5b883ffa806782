using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Records a program under ptrace into an .etrace file: checks the request, opens the writer,
/// runs the <see cref="PtraceSession"/> on its own tracer thread, and closes the trace with the
/// reason recording stopped — also on errors, so what was recorded is never lost.
/// </summary>
public static class PtraceRecorder
{
    /// <summary>Throws <see cref="RecordingSetupException"/> (one-line message) when the recording cannot start.</summary>
    public static RecordingResult Record(RecordOptions options, RecordingControl? control = null, RecordingProgress? progress = null)
    {
        control ??= new RecordingControl();
        var program = TargetProgram.Resolve(options.Program, options.Arguments);
        string output = Path.GetFullPath(options.OutputPath);
        var sandbox = new Sandbox(options.Sandbox);

        var header = new TraceHeader
        {
            ToolVersion = typeof(PtraceRecorder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Backend = "ptrace",
            BackendParameters = Parameters(options, sandbox),
            TargetPath = program.Path,
            TargetArgv = [options.Program, .. options.Arguments],
            TargetSha256 = Sha256(program.Path),
            StartTime = DateTimeOffset.UtcNow,
            Host = Environment.MachineName,
        };

        TraceWriter writer;
        try
        {
            writer = TraceWriter.Create(output, header);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecordingSetupException($"cannot write {output}: {e.Message}");
        }

        var clock = Stopwatch.StartNew();
        var pipeline = new RecordingPipeline(writer, options);
        var session = new PtraceSession(new LinuxPtrace(), pipeline, options, control, progress);
        (StopReason Reason, string Detail) stop = (StopReason.RecorderError, "");
        Exception? failure = null;

        // Every ptrace request must come from the thread that seized the tracee.
        var tracer = new Thread(() =>
        {
            try { stop = session.Run(sandbox, program); }
            catch (Exception e) { failure = e; }
        }, 16 << 20) { Name = "ptrace tracer", IsBackground = true };
        // The tracer checks the deadline between stops; this timer covers a target that sleeps in
        // a system call (RecordingControl then kills it, which wakes the tracer).
        using var timer = options.Timeout is { } limit
            ? new Timer(_ => control.RequestStop(StopReason.Timeout, $"timeout after {limit.TotalSeconds:0.###} s"), null, limit, Timeout.InfiniteTimeSpan)
            : null;
        tracer.Start();
        tracer.Join();

        if (failure is RecordingSetupException setup)
        {
            writer.Close(StopReason.RecorderError, setup.Message);
            writer.Dispose();
            TryDelete(output);
            if (sandbox.IsScratchDirectory) TryDeleteDirectory(sandbox.WorkingDirectory);
            throw setup;
        }
        if (failure != null) stop = (StopReason.RecorderError, $"{failure.GetType().Name}: {failure.Message}");

        progress?.Update(writer);
        var result = new RecordingResult
        {
            OutputPath = output,
            StopReason = stop.Reason,
            StopDetail = stop.Detail,
            Steps = writer.Step,
            Instructions = writer.Count(EventKind.Instruction),
            Syscalls = writer.Count(EventKind.SyscallEntry),
            MemoryWrites = writer.Count(EventKind.MemoryWrite),
            Processes = session.Processes,
            Threads = session.Threads,
            WorkingDirectory = sandbox.WorkingDirectory,
            RootExitCode = session.RootExitCode,
            RootSignal = session.RootSignal,
            Elapsed = clock.Elapsed,
        };
        writer.Close(stop.Reason, stop.Detail);
        long size = new FileInfo(output).Length;
        writer.Dispose();
        return result with { Bytes = size };
    }

    private static Dictionary<string, string> Parameters(RecordOptions options, Sandbox sandbox)
    {
        var p = new Dictionary<string, string>
        {
            ["mode"] = options.Mode == RecordMode.Full ? "full" : "syscalls",
            ["max_steps"] = options.MaxSteps.ToString(),
            ["timeout_s"] = options.Timeout?.TotalSeconds.ToString("0.###") ?? "",
            ["time_slice_steps"] = options.TimeSliceSteps.ToString(),
            ["bound_to_one_cpu"] = (options.Mode == RecordMode.Full && options.BindToOneCpu).ToString().ToLowerInvariant(),
            ["kernel"] = Environment.OSVersion.VersionString,
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

    private static void TryDeleteDirectory(string path)
    {
        try { Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
