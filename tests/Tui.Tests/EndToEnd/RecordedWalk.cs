using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tui.Tests.EndToEnd;

/// <summary>
/// Programs/walk.c compiled with gcc and recorded with the real `ether record` (ptrace), once for the
/// end-to-end tests; what the tests expect on screen (steps of the system calls, of the layer entry)
/// is read from the trace with the replay engine, not written down by hand.
/// </summary>
public sealed class RecordedWalk : IDisposable
{
    private readonly TempDir _dir = new();

    public string Directory => _dir.Path;
    public string Trace { get; }
    public long LastStep { get; }
    public long WriteStep { get; }
    public long OpenatStep { get; }
    public long GetpidStep { get; }
    public long LayerEntryStep { get; }
    public int Pid { get; }

    public RecordedWalk()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Programs", "walk.c");
        FreestandingProgram.Build(Directory, source, "walk");
        Trace = Path.Combine(Directory, "walk.etrace");
        var record = EtherProcess.Run(Directory, "record", "--output", Trace, "--", "./walk");
        if (record.ExitCode != 0 || !File.Exists(Trace)) throw new InvalidOperationException($"ether record failed:\n{record}");

        using var replay = ReplaySession.Open(Trace);
        LastStep = replay.LastStep;
        long Call(string name)
        {
            for (var e = replay.NextEvent(0, EventKind.SyscallEntry); e != null; e = replay.NextEvent(e.Step, EventKind.SyscallEntry))
                if (e is SyscallEntryEvent s && s.Name == name) return s.Step;
            throw new InvalidOperationException($"no {name} in the recorded trace");
        }
        WriteStep = Call("write");
        OpenatStep = Call("openat");
        GetpidStep = Call("getpid");
        // The layer: the first instruction executed in the page the program wrote its function into.
        var mprotect = replay.StepsPage(Call("mprotect"), 1)[0];
        ulong area = ((SyscallEntryEvent)mprotect.Events.First(e => e is SyscallEntryEvent)).Args[0];
        LayerEntryStep = replay.StepsPage(1, (int)LastStep).First(r => r.Instruction is { } x && x.Rip == area).Step;
        Pid = mprotect.Events[0].Pid;
    }

    public void Dispose() => _dir.Dispose();
}
