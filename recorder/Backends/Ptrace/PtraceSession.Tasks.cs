using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>Event stops (exec, fork/vfork/clone, group-stops) and deaths: processes and threads come and go.</summary>
internal sealed partial class PtraceSession
{
    // -- events --

    private void OnEventStop(TraceeThread t, int ev, int signo)
    {
        switch (ev)
        {
            case PtraceEvent.Exec:
                OnExec(t);
                return;
            case PtraceEvent.Fork:
            case PtraceEvent.VFork:
            case PtraceEvent.Clone:
                OnNewTask(t, ev);
                return;
            case PtraceEvent.Stop:
                OnPtraceEventStop(t, signo);
                return;
            default:
                if (t.State == TraceeState.InSyscall) Resume(t, _ptrace.ResumeToSyscall(t.Tid));
                else if (Refresh(t)) ReadyAfterStop(t);
                return;
        }
    }

    private void OnExec(TraceeThread t)
    {
        _ptrace.GetEventMessage(t.Tid, out ulong formerTid);
        var process = t.Rec.Process;
        if ((int)formerTid != t.Tid && _scheduler.TryGet((int)formerTid, out var execer))
        {
            // A non-leader thread exec'd: it takes over the leader's tid; every other thread is gone
            // (the kernel reports no exit for them).
            foreach (var other in _scheduler.ThreadsOf(process, except: execer))
            {
                if (other.Rec.StepPending) _pipeline.AbandonStep(other.Rec);
                _pipeline.ThreadExited(other.Rec, 0);
                Remove(other);
            }
            _pipeline.Annotate(process.Pid, process.Pid, "exec", $"thread {execer.Tid} exec'd and took over the thread-group id {process.Pid}");
            _scheduler.ChangeTid(execer, process.Pid);
            t = execer;
        }
        else
        {
            foreach (var other in _scheduler.ThreadsOf(process, except: t))
            {
                _pipeline.ThreadExited(other.Rec, 0);
                Remove(other);
            }
        }

        if (t.State == TraceeState.Prologue)
        {
            t.State = TraceeState.InSyscall;
            _neverExeced = false;
        }
        if (!Refresh(t)) return;
        _pipeline.Exec(t.Rec, ProcFs.ExecutablePath(process.Pid), ProcFs.CommandLine(process.Pid));
        t.State = TraceeState.InSyscall;
        Resume(t, _ptrace.ResumeToSyscall(t.Tid));
    }

    private void OnNewTask(TraceeThread parent, int ev)
    {
        _ptrace.GetEventMessage(parent.Tid, out ulong msg);
        int tid = (int)msg;
        // The event says how the child reports its exit, not what it shares: clone(CLONE_VM | SIGCHLD)
        // is a FORK event, clone(CLONE_VFORK) a VFORK one. The call's own flags say (fork: 0, vfork:
        // CLONE_VM | CLONE_VFORK; unknown only when clone3's argument could not be read).
        ulong flags = ev == PtraceEvent.VFork && parent.CloneFlags == 0 ? CloneVm | CloneVFork : parent.CloneFlags;
        var parentProcess = parent.Rec.Process;
        TraceeThread child;
        if ((flags & CloneThread) != 0)
        {
            child = AddThread(parentProcess, tid, TraceeState.Starting, _mode.StyleOfNewTask(parent.Style));
            _pipeline.ThreadStarted(child.Rec, parent.Tid);
            _threadCount++;
        }
        else
        {
            var process = NewProcess(tid, parentProcess.Pid, (flags & CloneVm) != 0 ? parentProcess.Space : null);
            if ((flags & CloneVm) == 0) process.Space = parentProcess.Space.CopyForFork(process.Memory);
            // The replay gives a child its parent's memory at the fork (a CLONE_VM child too: its own
            // writes are logged under its own pid), so it starts knowing what the parent's trace holds.
            process.Shadow = parentProcess.Shadow.Copy();
            process.Executable = parentProcess.Executable;
            child = AddThread(process, tid, TraceeState.Starting, _mode.StyleOfNewTask(parent.Style));
            string how = ev switch { PtraceEvent.Fork => "fork", PtraceEvent.VFork => "vfork", _ => "clone" };
            _pipeline.ProcessStarted(process, how);
            _processCount++;
            _threadCount++;
        }
        // The parent stays inside the call; its exit stop follows.
        Resume(parent, _ptrace.ResumeToSyscall(parent.Tid));
        if (_early.Remove(tid, out var early)) Dispatch(tid, early);
    }

    private void OnPtraceEventStop(TraceeThread t, int signo)
    {
        if (t.State == TraceeState.Prologue)
        {
            Resume(t, _ptrace.ResumeToSyscall(t.Tid));
            return;
        }
        if (t.State == TraceeState.Starting)
        {
            // A new task's first stop (seized tracees' children start with PTRACE_EVENT_STOP/SIGTRAP):
            // registers = the parent's at the call, rax = 0; it has not executed anything yet.
            if (!Refresh(t)) return;
            t.ProgramTrapFlag = (t.Raw.Eflags & TrapFlag) != 0; // the parent's flags at its call: genuine
            _pipeline.Registers(t.Rec);
            ReadyAfterStop(t);
            return;
        }
        if (signo is Signals.SIGSTOP or Signals.SIGTSTP or Signals.SIGTTIN or Signals.SIGTTOU)
        {
            // Group-stop: stay stopped like the program would, but keep reporting (PTRACE_LISTEN);
            // a SIGCONT ends it with another PTRACE_EVENT_STOP.
            if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
            _scheduler.Landed(t);
            t.State = TraceeState.GroupStopped;
            if (!_ptrace.Listen(t.Tid)) Gone(t);
            return;
        }
        // End of a group-stop, or an interrupt: ready again.
        if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
        if (!Refresh(t)) return;
        ReadyAfterStop(t);
    }

    // -- deaths --

    private void Died(TraceeThread t, WaitStatus status)
    {
        var rec = t.Rec;
        if (rec.StepPending) _pipeline.AbandonStep(rec);
        if (rec.InSyscall) _pipeline.SyscallAbandoned(rec);
        var process = rec.Process;
        bool leader = t.Tid == process.Pid;
        if (!leader)
            _pipeline.ThreadExited(rec, status.Exited ? status.ExitCode : 128 + status.TermSignal);
        _transparency?.ThreadExited(t.Tid);
        Remove(t);
        if (leader)
        {
            // The leader is reported last (after the other threads of a group exit).
            foreach (var other in _scheduler.ThreadsOf(process))
            {
                _pipeline.ThreadExited(other.Rec, 0);
                Remove(other);
            }
            _pipeline.ProcessExited(process, status.Exited ? status.ExitCode : 0, status.Signaled ? status.TermSignal : 0, status.CoreDumped);
            _processes.Remove(process.Pid);
            UpdateKnownPids();
            _transparency?.ProcessExited(process.Pid, process.ParentPid, status.Raw);
            if (process.Pid == _rootPid)
            {
                if (status.Exited) RootExitCode = status.ExitCode;
                else RootSignal = status.TermSignal;
            }
        }
    }

    /// <summary>A ptrace call failed on the thread (ESRCH): it was killed; its death report will follow.</summary>
    private void Gone(TraceeThread t)
    {
        if (t.Rec.StepPending) _pipeline.AbandonStep(t.Rec);
        t.State = TraceeState.Dying;
        _scheduler.Landed(t);
    }

    private void Resume(TraceeThread t, bool ok)
    {
        if (!ok) Gone(t);
        else if (t.State is TraceeState.Ready) t.State = TraceeState.Running;
    }
}
