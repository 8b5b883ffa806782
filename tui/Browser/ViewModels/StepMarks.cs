using System.Text;
using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Formats.Memory;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>
/// The inline marks of the instruction list: what else happened during a step, one short bracketed
/// note per event — <c>[syscall write(1, "hi", 2)]</c>, <c>[= 2]</c>, <c>[signal SIGSEGV]</c>,
/// <c>[layer 0 -> 1]</c> — so an analyst scrolling the list sees calls and unpacking where they happen.
/// </summary>
public static class StepMarks
{
    public const int MaxArgText = 60;

    public static string Of(IReadOnlyList<TraceEvent> events)
    {
        if (events.Count == 0) return "";
        var sb = new StringBuilder();
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            string? mark = Of(e);
            // A call that returned within its step reads as one: [syscall write(1, "hi", 2) = 2].
            if (e is SyscallEntryEvent entry && i + 1 < events.Count && events[i + 1] is SyscallExitEvent exit && exit.Tid == entry.Tid && exit.Name == entry.Name)
            {
                mark += " = " + Result(exit);
                i++;
            }
            if (mark == null) continue;
            if (sb.Length > 0) sb.Append(' ');
            sb.Append('[').Append(mark).Append(']');
        }
        return sb.ToString();
    }

    public static string? Of(TraceEvent e) => e switch
    {
        SyscallEntryEvent s => $"syscall {s.Name}({Cut(string.Join(", ", s.Decoded.Length > 0 ? s.Decoded : s.Args.Select(a => $"0x{a:x}")))})",
        SyscallExitEvent x => $"{x.Name} = {Result(x)}",
        SignalEvent g => $"signal {(g.Name.Length > 0 ? g.Name : g.Signo.ToString())} {g.Disposition}".TrimEnd(),
        ExecEvent x => $"exec {x.Path}",
        ProcessStartEvent p => $"process {p.Pid} start ({p.How})",
        ProcessExitEvent p => p.Signal != 0 ? $"process {p.Pid} killed by signal {p.Signal}" : $"process {p.Pid} exit {p.ExitCode}",
        ThreadStartEvent t => $"thread {t.Tid} start",
        ThreadExitEvent t => $"thread {t.Tid} exit",
        RegionMapEvent m => $"map 0x{m.Start:x}-0x{m.End:x}{(m.Name.Length > 0 ? " " + m.Name : "")}",
        RegionUnmapEvent u => $"unmap 0x{u.Start:x}-0x{u.End:x}",
        RegionProtectEvent p => $"protect 0x{p.Start:x}-0x{p.End:x} {ProtectionText.Of(p.Protection)}",
        RegionSnapshotEvent s => $"snapshot 0x{s.Address:x} {s.Bytes.Length} bytes ({s.Reason})",
        AnnotationEvent a => $"{a.Key}: {Cut(a.Text)}",
        _ => null,
    };

    /// <summary>The return as strace shows it: "5", "-1 ENOENT (No such file or directory)", "0x7f…".</summary>
    public static string Result(SyscallExitEvent x) => SyscallListing.Result(x.Name, x.Return, x.Errno, x.Abi);

    public static string Layer(LayerChange c) => c.FromLayer < 0 ? $"layer {c.ToLayer}" : $"layer {c.FromLayer} -> {c.ToLayer}";

    private static string Cut(string s) => s.Length <= MaxArgText ? s : s[..(MaxArgText - 1)] + "…";
}
