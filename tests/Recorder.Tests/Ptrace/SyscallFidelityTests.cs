using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Recorder.Tests.Ptrace;

[Collection("ptrace")]
public sealed class SyscallFidelityTests
{
    /// <summary>
    /// Full mode single-steps every instruction (~30-50 k steps/s here): /bin/true (~120 k
    /// instructions) and the test program run that way. ls -la /etc (millions of instructions)
    /// and the shell pipeline (~0.5 M) run in syscalls mode to keep the suite at seconds.
    /// </summary>
    public static TheoryData<string, string, string> Commands => new()
    {
        { "/bin/true", "", RecordingModes.Full },
        { "/bin/ls", "-la /etc", RecordingModes.Syscalls },
        { "/bin/sh", "-c|echo hi | cat", RecordingModes.Syscalls },
        { "syscalls.c", "", RecordingModes.Full },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void Per_process_calls_and_returns_match_strace(string command, string args, string mode)
    {
        string program = command.EndsWith(".c") ? TestPrograms.Build(command, "-O1") : command;
        string[] arguments = args.Length == 0 ? [] : args.Contains('|') && command == "/bin/sh" ? args.Split('|', 2) : args.Split(' ');

        var (expected, straceRoot) = StraceReference.Run(program, arguments);
        var run = Recordings.Record(program, arguments, mode);
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);

        int traceRoot = run.Of<ProcessStartEvent>().First().Pid;
        var actual = StraceReference.FromTrace(run.Events);
        string? difference = StraceReference.Compare(expected, actual, straceRoot, traceRoot);
        Assert.True(difference is null, difference);
        // Not vacuous: strace saw calls, and the trace has as many.
        Assert.True(expected.Values.Sum(c => c.Count) >= 10);
    }
}
