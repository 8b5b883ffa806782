using System.CommandLine;
using System.Runtime.InteropServices;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Recording;
using Spectre.Console;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether record [options] -- PROGRAM [ARGS...]`: run a program under ptrace into NAME.etrace.</summary>
public static class RecordCommand
{
    public static Command Create()
    {
        var mode = new Option<string>("--mode")
        {
            Description = "full: every instruction, memory write and system call (trap-flag single-stepping); syscalls: system calls only, for long-running targets",
            DefaultValueFactory = _ => "full",
        };
        mode.AcceptOnlyFromAmong("full", "syscalls");
        var maxSteps = new Option<long>("--max-steps") { Description = "Stop after N steps (instructions; system calls in syscalls mode); 0 = no limit", DefaultValueFactory = _ => 0 };
        var timeout = new Option<double>("--timeout") { Description = "Stop after S seconds; 0 = no limit", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--output", "-o") { Description = "Trace file to write (default: NAME.etrace in the current directory)" };
        var allowNetwork = new Option<bool>("--allow-network") { Description = "Let the program use the host's network (default: its own network namespace with only loopback)" };
        var cwd = new Option<string?>("--cwd") { Description = "Working directory of the program (default: a fresh scratch directory)" };
        var command = new Argument<string[]>("program")
        {
            Description = "PROGRAM [ARGS...]: the program to record and its arguments, after --",
            Arity = ArgumentArity.OneOrMore,
        };

        var record = new Command("record", "Run PROGRAM under ptrace in a sandbox (no network, scratch directory, resource limits) and record every instruction, memory write, system call, region change and unpacking moment into NAME.etrace")
        {
            mode, maxSteps, timeout, output, allowNetwork, cwd, command,
        };
        // `ether record xen ...`: the Xen/Ether backend's own options (RecordXenCommand). A program
        // that happens to be called "xen" is still reachable as `ether record -- xen`.
        record.Subcommands.Add(RecordXenCommand.Create());
        record.SetAction(r => Cli.Guard(() =>
        {
            var argv = r.GetValue(command)!;
            double seconds = r.GetValue(timeout);
            long steps = r.GetValue(maxSteps);
            if (steps < 0) throw new CliException("--max-steps must be 0 or more");
            if (seconds < 0) throw new CliException("--timeout must be 0 or more");
            var options = new RecordOptions
            {
                Program = argv[0],
                Arguments = argv[1..],
                OutputPath = r.GetValue(output) ?? DefaultOutput(argv[0]),
                Mode = r.GetValue(mode) == "syscalls" ? RecordMode.Syscalls : RecordMode.Full,
                MaxSteps = steps,
                Timeout = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
                Sandbox = new SandboxOptions { IsolateNetwork = !r.GetValue(allowNetwork), WorkingDirectory = r.GetValue(cwd) },
            };
            return Run(options);
        }));
        return record;
    }

    private static string DefaultOutput(string program)
    {
        string name = Path.GetFileName(program.TrimEnd('/'));
        return (name.Length == 0 ? "trace" : name) + ".etrace";
    }

    public static int Run(RecordOptions options)
    {
        var control = new RecordingControl();
        var progress = new RecordingProgress();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; control.RequestStop(StopReason.Interrupted, "SIGINT"); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; control.RequestStop(StopReason.Interrupted, "SIGTERM"); });

        RecordingResult result;
        try
        {
            result = Console.IsErrorRedirected
                ? PtraceRecorder.Record(options, control, progress)
                : WithProgressLine(options, control, progress);
        }
        catch (RecordingSetupException e)
        {
            throw new CliException(e.Message);
        }
        PrintSummary(result, Console.Error);
        return result.StopReason == StopReason.RecorderError ? Cli.Failed : Cli.Ok;
    }

    /// <summary>Records on a worker while a live line on stderr shows steps, steps/s, system calls, writes and trace size.</summary>
    private static RecordingResult WithProgressLine(RecordOptions options, RecordingControl control, RecordingProgress progress)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var work = Task.Factory.StartNew(() => PtraceRecorder.Record(options, control, progress), TaskCreationOptions.LongRunning);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        console.Live(new Markup("")).AutoClear(true).Start(ctx =>
        {
            while (!work.Wait(250))
            {
                double s = clock.Elapsed.TotalSeconds;
                ctx.UpdateTarget(new Markup(Markup.Escape(
                    $"recording: {progress.Steps:N0} steps ({(s > 0 ? progress.Steps / s : 0):N0}/s), {progress.Syscalls:N0} syscalls, " +
                    $"{progress.MemoryWrites:N0} writes, {Size(progress.Bytes)}")));
                ctx.Refresh();
            }
        });
        return work.GetAwaiter().GetResult();
    }

    public static void PrintSummary(RecordingResult r, TextWriter to)
    {
        void Line(string key, string value) => to.WriteLine($"{key,-14} {value}");
        Line("trace", r.OutputPath);
        Line("stopped", $"{Describe(r.StopReason)}{(r.StopDetail.Length > 0 ? $" ({r.StopDetail})" : "")}");
        Line("steps", $"{r.Steps:N0} in {r.Elapsed.TotalSeconds:F1} s ({r.StepsPerSecond:N0}/s)");
        Line("instructions", $"{r.Instructions:N0}");
        Line("syscalls", $"{r.Syscalls:N0}");
        Line("memory writes", $"{r.MemoryWrites:N0}");
        Line("processes", $"{r.Processes:N0} ({r.Threads:N0} threads)");
        Line("size", r.Instructions > 0 ? $"{Size(r.Bytes)} ({r.BytesPerInstruction:F2} bytes/instruction)" : Size(r.Bytes));
        Line("working dir", r.WorkingDirectory);
    }

    private static string Describe(StopReason reason) => reason switch
    {
        StopReason.Exited => "the target exited",
        StopReason.MaxSteps => "step limit reached",
        StopReason.Timeout => "time limit reached",
        StopReason.Interrupted => "interrupted",
        StopReason.TargetCrashed => "the target crashed",
        StopReason.RecorderError => "recorder error",
        _ => reason.ToString(),
    };

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:F1} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):F1} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):F2} GiB",
    };
}
