using Ether.Replay.Analyzer.Export.Tables;
using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Export.Importers;

/// <summary>Every process and thread the trace mentions, with their lifecycle events and counts.</summary>
internal sealed class ProcessCatalog(LayerTracker layers)
{
    private sealed class ProcessState
    {
        public int? ParentPid;
        public string? How;
        public long? StartStep;
        public long? ExitStep;
        public int? ExitCode;
        public int? Signal;
        public bool? CoreDumped;
        public string? Path;
        public string? Argv;
        public long Syscalls;
    }

    private readonly Dictionary<int, ProcessState> _processes = new();
    private readonly Dictionary<(int Pid, int Tid), ThreadState> _threads = new();

    public int ProcessCount => _processes.Count;
    public int ThreadCount => _threads.Count;
    public IEnumerable<ThreadState> Threads => _threads.Values;

    public ThreadState Thread(int pid, int tid)
    {
        if (!_threads.TryGetValue((pid, tid), out var t))
        {
            Process(pid);
            t = new ThreadState(pid, tid, layers.Thread(pid, tid));
            _threads.Add((pid, tid), t);
        }
        return t;
    }

    private ProcessState Process(int pid)
    {
        if (!_processes.TryGetValue(pid, out var p))
        {
            p = new ProcessState();
            _processes.Add(pid, p);
        }
        return p;
    }

    public void OnSideEvent(TraceEvent e)
    {
        switch (e)
        {
            case ProcessStartEvent s:
            {
                var p = Process(s.Pid);
                p.ParentPid = s.ParentPid;
                p.How = s.How;
                p.StartStep ??= s.Step;
                break;
            }
            case ProcessExitEvent x:
            {
                var p = Process(x.Pid);
                p.ExitStep = x.Step;
                p.ExitCode = x.ExitCode;
                p.Signal = x.Signal;
                p.CoreDumped = x.CoreDumped;
                foreach (var t in _threads.Values) if (t.Pid == x.Pid) t.ExitStep ??= x.Step;
                break;
            }
            case ExecEvent x:
            {
                var p = Process(x.Pid);
                p.Path = x.Path;
                p.Argv = ShellWords.Join(x.Argv);
                break;
            }
            case ThreadStartEvent s when s.Tid != 0:
            {
                var t = Thread(s.Pid, s.Tid);
                t.ParentTid = s.ParentTid;
                t.StartStep ??= s.Step;
                break;
            }
            case ThreadExitEvent x when x.Tid != 0:
            {
                var t = Thread(x.Pid, x.Tid);
                t.ExitStep = x.Step;
                t.ExitCode = x.ExitCode;
                break;
            }
            case SyscallEntryEvent c:
                Process(c.Pid).Syscalls++;
                break;
        }
    }

    public void WriteTo(ProcessesTable processes, ThreadsTable threads)
    {
        foreach (var (pid, p) in _processes.OrderBy(p => p.Key))
        {
            var mine = _threads.Values.Where(t => t.Pid == pid && t.Tid != 0).ToList();
            processes.Pid.Add(pid);
            processes.ParentPid.Add(p.ParentPid);
            processes.How.Add(p.How);
            processes.StartStep.Add(p.StartStep);
            processes.ExitStep.Add(p.ExitStep);
            processes.ExitCode.Add(p.ExitCode);
            processes.Signal.Add(p.Signal);
            processes.CoreDumped.Add(p.CoreDumped);
            processes.Path.Add(p.Path);
            processes.Argv.Add(p.Argv);
            processes.Threads.Add(mine.Count);
            processes.Instructions.Add(mine.Sum(t => t.Instructions));
            processes.Syscalls.Add(p.Syscalls);
            processes.EndRow();
        }
        foreach (var t in _threads.Values.Where(t => t.Tid != 0).OrderBy(t => t.Pid).ThenBy(t => t.Tid))
        {
            threads.Pid.Add(t.Pid);
            threads.Tid.Add(t.Tid);
            threads.ParentTid.Add(t.ParentTid);
            threads.StartStep.Add(t.StartStep);
            threads.ExitStep.Add(t.ExitStep);
            threads.ExitCode.Add(t.ExitCode);
            threads.FirstStep.Add(t.FirstStep >= 0 ? t.FirstStep : null);
            threads.LastStep.Add(t.LastStep >= 0 ? t.LastStep : null);
            threads.Instructions.Add(t.Instructions);
            threads.EndRow();
        }
    }
}
