using System.Runtime.InteropServices;
using Ether.Replay.Formats.Model;
using Ether.Replay.Formats.Text;
using Ether.Replay.Recorder.Recording;
using Spectre.Console;

namespace Ether.Replay.Cli.Commands;

/// <summary>
/// What `ether record` and `ether record xen` share around the recorder's one entry point:
/// Ctrl-C / SIGTERM stop the recording (the trace is closed with what was recorded), a live
/// progress line on a terminal, and the summary on stderr (stdout belongs to the program).
/// </summary>
public static class RecordingRun
{
    public static int Run(RecordingRequest request, Func<RecordingResult, string?>? hint = null)
    {
        var control = new RecordingControl();
        var progress = new RecordingProgress();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; control.RequestStop(StopReason.Interrupted, "SIGINT"); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; control.RequestStop(StopReason.Interrupted, "SIGTERM"); });

        RecordingResult result;
        try
        {
            result = Console.IsErrorRedirected
                ? TraceRecorder.Record(request, control, progress)
                : WithProgressLine(request, control, progress);
        }
        catch (RecordingSetupException e)
        {
            throw new CliException(e.Message);
        }
        PrintSummary(result, Console.Error);
        if (hint?.Invoke(result) is { } line) Console.Error.WriteLine(line);
        if (result.StopReason != StopReason.RecorderError) return Cli.Ok;
        Cli.Error($"recording failed: {result.StopDetail} (the trace keeps what was recorded before)");
        return Cli.Failed;
    }

    /// <summary>Records on a worker while a live line on stderr shows steps, steps/s, system calls, writes and trace size.</summary>
    private static RecordingResult WithProgressLine(RecordingRequest request, RecordingControl control, RecordingProgress progress)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var work = Task.Factory.StartNew(() => TraceRecorder.Record(request, control, progress), TaskCreationOptions.LongRunning);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        console.Live(new Markup("")).AutoClear(true).Start(ctx =>
        {
            while (!work.Wait(250))
            {
                double s = clock.Elapsed.TotalSeconds;
                ctx.UpdateTarget(new Markup(Markup.Escape(
                    $"recording: {progress.Steps:N0} steps ({(s > 0 ? progress.Steps / s : 0):N0}/s), {progress.Syscalls:N0} syscalls, " +
                    $"{progress.MemoryWrites:N0} writes, {ByteSizeText.Format(progress.Bytes)}")));
                ctx.Refresh();
            }
        });
        return work.GetAwaiter().GetResult();
    }

    public static void PrintSummary(RecordingResult r, TextWriter to)
    {
        void Line(string key, string value) => to.WriteLine($"{key,-14} {value}");
        Line("trace", r.OutputPath);
        Line("stopped", StopReasonText.Describe(r.StopReason, r.StopDetail));
        Line("steps", $"{r.Steps:N0} in {r.Elapsed.TotalSeconds:F1} s ({r.StepsPerSecond:N0}/s)");
        Line("instructions", $"{r.Instructions:N0}");
        Line("syscalls", $"{r.Syscalls:N0}");
        Line("memory writes", $"{r.MemoryWrites:N0}");
        Line("processes", $"{r.Processes:N0} ({r.Threads:N0} threads)");
        Line("size", r.Instructions > 0 ? $"{ByteSizeText.Format(r.Bytes)} ({r.BytesPerInstruction:F2} bytes/instruction)" : ByteSizeText.Format(r.Bytes));
        if (WorkingDirectory(r) is { } wd) Line("working dir", wd);
        foreach (var (key, value) in r.BackendDetails) Line(key, value);
    }

    private static string? WorkingDirectory(RecordingResult r) => r.WorkingDirectoryFate switch
    {
        WorkingDirectoryFate.Kept => $"{r.WorkingDirectory} (kept, with the files the program left)",
        WorkingDirectoryFate.UserDirectory => r.WorkingDirectory,
        WorkingDirectoryFate.Removed => $"{r.WorkingDirectory} (removed with its files; --keep-workdir DIR keeps them)",
        _ => null,
    };
}
