using Ether.Replay.Formats.Model;

namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// Which instructions a trace's steps cover, from the recording mode in its header (the ptrace
/// backend's `mode` parameter; docs/trace-format.md "Steps"): every instruction (`full`), none
/// (`syscalls`: a step is a system call), the moments of unpacking (`unpack`), or written code and
/// those moments (`layers`). The one wording `ether at` and the browser use to say what a step
/// cannot show.
/// </summary>
public static class StepCoverage
{
    /// <summary>The header's recording mode ("full", "syscalls", "unpack", "layers"), or "" when the backend has none.</summary>
    public static string Mode(TraceHeader header) => header.BackendParameters.TryGetValue("mode", out var mode) ? mode : "";

    /// <summary>For instruction counts (per layer, per block) of a trace recorded in <paramref name="mode"/>: what they count; null when every instruction was stepped.</summary>
    public static string? Counts(string mode) => mode switch
    {
        "syscalls" => "recorded in --mode syscalls: no instruction was stepped; layers come from files the trace wrote and exec'd",
        "unpack" => "recorded in --mode unpack: instruction counts are the moments stepped (first writes, first runs of written pages), not what ran natively",
        "layers" => "recorded in --mode layers: instruction counts cover written code (every instruction stepped) and the moments of unpacking; layer 0 and the libraries ran natively, uncounted (but while one thread is inside written code, the process's other threads are stepped wherever they are)",
        _ => null,
    };

    /// <summary>What a step without an instruction is, in this trace.</summary>
    public static string Tick(TraceHeader header) => Mode(header) switch
    {
        "syscalls" => "a tick: a system call; --mode syscalls records no instructions",
        "unpack" => "a tick: a system call of a thread running natively; --mode unpack steps only the moments of unpacking",
        "layers" => "a tick: a system call of a thread running natively, outside written code; --mode layers steps written code and the moments of unpacking",
        _ => "a tick: system-call-only recording",
    };

    /// <summary>One line for views of a step in a trace with native stretches (null when every instruction is a step).</summary>
    public static string? Gaps(TraceHeader header) => Mode(header) switch
    {
        "syscalls" => "recorded in --mode syscalls: steps are system calls; registers are as of the last system call, memory as the last snapshot and kernel write left it",
        "unpack" => "recorded in --mode unpack: instructions between steps ran natively (not recorded); registers are as of the last step or system call, memory as the last snapshot and write left it",
        "layers" => "recorded in --mode layers: instructions inside written code are steps (exact registers and writes); code outside it ran natively between steps (not recorded: memory it wrote is as the last snapshot and write left it), except while another thread of the process was inside written code",
        _ => null,
    };
}
