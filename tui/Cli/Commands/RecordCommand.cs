using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether record [options] -- PROGRAM [ARGS...]`: run a program under ptrace into NAME.etrace.</summary>
public static class RecordCommand
{
    public static Command Create()
    {
        var mode = new Option<string>("--mode")
        {
            Description = RecordingModes.Help,
            DefaultValueFactory = _ => RecordingModes.Full,
        };
        mode.AcceptOnlyFromAmong([.. RecordingModes.Names]);
        var maxSteps = new Option<long>("--max-steps") { Description = "Stop after N steps (instructions; system calls in syscalls mode; both in unpack and layers mode: docs/trace-format.md \"Steps\"); 0 = no limit", DefaultValueFactory = _ => 0 };
        var timeout = new Option<double>("--timeout") { Description = "Stop after S seconds; 0 = no limit", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--output", "-o") { Description = "Trace file to write (default: NAME.etrace in the current directory)" };
        var allowNetwork = new Option<bool>("--allow-network") { Description = "Let the program use the host's network (default: its own network namespace with only loopback)" };
        var cwd = new Option<string?>("--cwd") { Description = "Working directory of the program, left as it is (default: a fresh scratch directory, deleted with what the program left in it when recording ends)" };
        var keepWorkdir = new Option<string?>("--keep-workdir") { Description = "Run the program in a fresh directory DIR (it must not exist yet) and keep it, with the files the program dropped, when recording ends" };
        var clockRate = new Option<long>("--clock-rate")
        {
            Description = "Virtual time: single-stepped instructions per virtual second (the program's clocks, rdtsc and timeouts run at this rate, sleeps are skipped)",
            DefaultValueFactory = _ => PtraceRecordOptions.DefaultClockRate,
        };
        var noTransparency = new Option<bool>("--no-transparency") { Description = "Do not hide the recorder from the program (real time, TracerPid, the ptrace stops) — to compare" };
        var command = new Argument<string[]>("program")
        {
            Description = "PROGRAM [ARGS...]: the program to record and its arguments, after --",
            Arity = ArgumentArity.OneOrMore,
        };

        var record = new Command("record", "Run PROGRAM under ptrace in a sandbox (no network, scratch directory, resource limits) and record every instruction, memory write, system call, region change and unpacking moment into NAME.etrace")
        {
            mode, maxSteps, timeout, output, allowNetwork, cwd, keepWorkdir, clockRate, noTransparency, command,
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
            long rate = r.GetValue(clockRate);
            if (rate is < 1000 or > 1_000_000_000_000) throw new CliException("--clock-rate must be 1000 - 1000000000000 instructions per second");
            return RecordingRun.Run(new PtraceRecordOptions
            {
                Program = argv[0],
                Arguments = argv[1..],
                OutputPath = r.GetValue(output) ?? DefaultOutput(argv[0]),
                Mode = r.GetValue(mode)!,
                MaxSteps = steps,
                Timeout = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
                ClockRate = rate,
                Transparent = !r.GetValue(noTransparency),
                Sandbox = new SandboxOptions
                {
                    IsolateNetwork = !r.GetValue(allowNetwork),
                    WorkingDirectory = r.GetValue(cwd),
                    KeepWorkingDirectory = r.GetValue(keepWorkdir),
                },
            }, result => ScratchDirectoryHint.For(argv[1..], result.WorkingDirectoryFate, Environment.CurrentDirectory));
        }));
        return record;
    }

    private static string DefaultOutput(string program)
    {
        string name = Path.GetFileName(program.TrimEnd('/'));
        return (name.Length == 0 ? "trace" : name) + ".etrace";
    }
}
