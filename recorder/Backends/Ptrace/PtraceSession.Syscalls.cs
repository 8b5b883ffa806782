using Ether.Replay.Formats.Abi;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Ether.Replay.Recorder.Recording;
using Ether.Replay.Recorder.Syscalls;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>System-call entry and exit stops, the prologue's exec, and calls the sandbox refuses.</summary>
internal sealed partial class PtraceSession
{
    // -- system-call stops --

    private void OnSyscallStop(TraceeThread t)
    {
        if (!_ptrace.GetSyscallInfo(t.Tid, out var info)) { Gone(t); return; }
        if (t.State == TraceeState.Prologue) { OnPrologueSyscall(t, info); return; }

        if (info.Op == PtraceSyscallInfo.OpEntry)
        {
            if (t.State == TraceeState.EnteringSyscall) _pipeline.CommitInstruction(t.Rec);
            t.RestartPending = false;
            if (!_full)
            {
                if (_options.MaxSteps > 0 && _pipeline.Writer.Step >= _options.MaxSteps)
                {
                    _control.RequestStop(StopReason.MaxSteps, $"max steps {_options.MaxSteps} reached");
                    return;
                }
                _pipeline.Tick();
            }
            bool compat = info.Arch == PtraceSyscallInfo.ArchI386;
            Span<ulong> args = stackalloc ulong[6];
            unsafe { for (int i = 0; i < 6; i++) args[i] = info.EntryArgs[i]; }
            long nr = (long)info.EntryNr;
            _pipeline.SyscallEntry(t.Rec, compat, nr, args);
            t.CloneFlags = CloneFlagsOf(t, compat, nr, args);
            if (SandboxGuard.Refuse(compat, nr, args, IsTraced) is { } why)
                Refuse(t, why, Errno.EPERM);
            else if (IsProcessCreation(compat, nr, t.CloneFlags) && _processes.Count >= _options.Sandbox.MaxProcesses)
                Refuse(t, $"{_processes.Count} traced processes (limit {_options.Sandbox.MaxProcesses})", Errno.EAGAIN);
            if (_inFlight == t) _inFlight = null;
            t.State = TraceeState.InSyscall;
            Resume(t, _ptrace.ResumeToSyscall(t.Tid));
            return;
        }

        if (info.Op == PtraceSyscallInfo.OpExit)
        {
            if (!Refresh(t)) return;
            long ret = info.ExitRval;
            if (t.RefusedSyscall)
            {
                t.RefusedSyscall = false;
                ret = -t.RefusedErrno;
                var regs = t.Raw;
                regs.Rax = unchecked((ulong)ret);
                if (_ptrace.SetRegisters(t.Tid, regs)) SetRegisters(t, regs);
            }
            if (t.Rec.InSyscall) _pipeline.SyscallExit(t.Rec, ret, t.Rec.Registers);
            else _pipeline.Registers(t.Rec);
            if (_full && ret is -Errno.ERESTARTSYS or -Errno.ERESTARTNOINTR or -Errno.ERESTARTNOHAND or -Errno.ERESTART_RESTARTBLOCK)
            {
                t.RestartPending = true;
                t.RestartReturn = ret;
            }
            ReadyAfterStop(t);
            return;
        }

        // Op none: a stop we did not ask for (should not happen with TRACESYSGOOD); go on.
        if (!Refresh(t)) return;
        ReadyAfterStop(t);
    }

    private void OnPrologueSyscall(TraceeThread t, in PtraceSyscallInfo info)
    {
        if (info.Op == PtraceSyscallInfo.OpEntry)
        {
            bool compat = info.Arch == PtraceSyscallInfo.ArchI386;
            long nr = (long)info.EntryNr;
            if (!compat && LinuxSyscallAbi.X86_64.Has(nr, SyscallTraits.Exec))
            {
                // The shell's exec of the program: the first recorded event. Decoded now, while the
                // file name is still in the shell's memory.
                Span<ulong> args = stackalloc ulong[6];
                unsafe { for (int i = 0; i < 6; i++) args[i] = info.EntryArgs[i]; }
                if (!t.PrologueExecSeen)
                {
                    _pipeline.ProcessStarted(t.Rec.Process, "spawn");
                    _processCount++;
                    _threadCount++;
                }
                t.PrologueExecSeen = true;
                _pipeline.SyscallEntry(t.Rec, false, nr, args);
            }
        }
        else if (info.Op == PtraceSyscallInfo.OpExit && t.Rec.InSyscall && info.ExitRval < 0)
        {
            // The kernel refused the program (no interpreter, bad format...); the shell will exit.
            _pipeline.SyscallExit(t.Rec, info.ExitRval, t.Rec.Registers);
            _execError = (int)-info.ExitRval;
        }
        Resume(t, _ptrace.ResumeToSyscall(t.Tid));
    }

    /// <summary>fork, vfork, clone/clone3 without CLONE_THREAD: a new process.</summary>
    private static bool IsProcessCreation(bool compat, long nr, ulong cloneFlags) =>
        LinuxSyscallAbi.Of(compat).Has(nr, SyscallTraits.CreatesTask) && (cloneFlags & CloneThread) == 0;

    /// <summary>Makes the call fail with <paramref name="errno"/> without running it (root ignores RLIMIT_NPROC, so the process cap is ours).</summary>
    private void Refuse(TraceeThread t, string why, int errno)
    {
        // orig_rax = -1 makes the kernel skip the call (it returns -ENOSYS); the exit stop turns that into -EPERM.
        var regs = t.Raw;
        if (!_ptrace.GetRegisters(t.Tid, out regs)) return;
        regs.OrigRax = ulong.MaxValue;
        if (!_ptrace.SetRegisters(t.Tid, regs)) return;
        t.RefusedSyscall = true;
        t.RefusedErrno = errno;
        _pipeline.Annotate(t.Pid, t.Tid, "sandbox", $"refused {t.Rec.SyscallName}: {why}");
    }

    private ulong CloneFlagsOf(TraceeThread t, bool compat, long nr, ReadOnlySpan<ulong> args)
    {
        if (!LinuxSyscallAbi.Of(compat).Has(nr, SyscallTraits.CreatesTask)) return 0;
        switch (LinuxSyscallAbi.Of(compat).Calls.Name(nr))
        {
            case "clone": return args[0];         // clone(flags, ...)
            case "clone3":                        // clone3(struct clone_args *, size): flags is the first u64
                Span<byte> b = stackalloc byte[8];
                return t.Rec.Process.Memory.Read(args[0], b) == 8 ? BitConverter.ToUInt64(b) : 0;
            case "vfork": return CloneVm | CloneVFork;
            default: return 0;                    // fork
        }
    }
}
