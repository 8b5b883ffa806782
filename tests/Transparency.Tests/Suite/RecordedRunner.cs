using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>Records a suite program with the real recorder, in-process, and keeps what it printed and its trace.</summary>
public static class RecordedRunner
{
    public sealed record Recorded(ProgramRun Run, RecordingResult Result, string TracePath);

    public static Recorded Run(SuiteProgram program, string mode, string traceDirectory)
    {
        string trace = Path.Combine(traceDirectory, $"{program.Name}.{mode}.etrace");
        string stdout = Path.Combine(traceDirectory, $"{program.Name}.{mode}.stdout");
        var result = TraceRecorder.Record(new PtraceRecordOptions
        {
            Program = program.Binary,
            OutputPath = trace,
            Mode = mode,
            Timeout = TimeSpan.FromMinutes(5),
            Sandbox = new SandboxOptions { StdoutPath = stdout, StdinPath = "/dev/null" },
        });
        string text = File.Exists(stdout) ? File.ReadAllText(stdout) : "";
        return new Recorded(new ProgramRun(text, result.RootExitCode, result.RootSignal, $"{result.StopReason}: {result.StopDetail}, {result.Steps} steps"), result, trace);
    }
}
