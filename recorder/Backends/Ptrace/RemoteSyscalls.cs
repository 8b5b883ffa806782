using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Runs a system call inside a stopped tracee thread, as if the program had made it, and puts the
/// thread back exactly as it was: save the registers; point rip at a <c>syscall</c> instruction
/// (one in the vDSO, found once per address space; else any executable mapping; else the one the
/// thread just executed); set rax and the arguments; resume with PTRACE_SYSCALL to the call's entry
/// stop and again to its exit stop; read the result; restore every register. Two ptrace stops per
/// call, nothing recorded, no memory of the program touched.
///
/// The thread must be in a stop at an instruction boundary: a system-call exit stop, a signal
/// stop, or after a step — not a system-call entry stop (the kernel is inside the program's own
/// call there). Signals that arrive meanwhile are handed back to the session (delivered at the
/// thread's next resume); a death is handed back too and the call reports failure. Tracer thread only.
/// </summary>
internal sealed class RemoteSyscalls(IPtrace ptrace, Action<int, WaitStatus> deferStop, Action<TraceeThread, int, SigInfo> deferSignal)
{
    private const ulong TrapFlag = 0x100;
    private const ulong UserCs64 = 0x33;

    /// <summary>Calls run (for tests and statistics).</summary>
    public long Count { get; private set; }

    public bool TryRun(TraceeThread t, long number, ReadOnlySpan<ulong> args, out long result)
    {
        result = 0;
        if (!ptrace.GetRegisters(t.Tid, out var saved)) return false;
        if (saved.Cs != UserCs64) return false; // 32-bit code: int 0x80 numbering; not supported
        ulong site = SyscallSite(t, saved);
        if (site == 0) return false;

        var regs = saved;
        regs.Rip = site;
        regs.Rax = (ulong)number;
        // orig_rax = -1: no restart logic applies to the registers we hand over (the saved ones may
        // hold -ERESTART* from the program's own interrupted call; they come back unchanged).
        regs.OrigRax = ulong.MaxValue;
        regs.Eflags &= ~TrapFlag;
        regs.Rdi = args[0]; regs.Rsi = args[1]; regs.Rdx = args[2];
        regs.R10 = args[3]; regs.R8 = args[4]; regs.R9 = args[5];
        if (!ptrace.SetRegisters(t.Tid, regs)) return false;

        bool ran = RunToStop(t, PtraceSyscallInfo.OpEntry, out _) && RunToStop(t, PtraceSyscallInfo.OpExit, out result);
        // Back to the thread's own state whatever happened (fails only if it is gone).
        bool restored = ptrace.SetRegisters(t.Tid, saved);
        if (ran) Count++;
        return ran && restored;
    }

    /// <summary>Resumes to the next system-call stop of the kind wanted; other stops are handed back to the session.</summary>
    private bool RunToStop(TraceeThread t, byte op, out long result)
    {
        result = 0;
        int signal = 0;
        for (int guard = 0; guard < 64; guard++)
        {
            if (!ptrace.ResumeToSyscall(t.Tid, signal)) return false;
            signal = 0;
            int tid = ptrace.WaitThread(t.Tid, out var status);
            if (tid != t.Tid) return false;
            if (status.Exited || status.Signaled)
            {
                deferStop(tid, status);
                return false;
            }
            if (!status.Stopped) continue;
            if (status.IsSyscallStop)
            {
                if (!ptrace.GetSyscallInfo(t.Tid, out var info)) return false;
                if (info.Op != op) return false;
                if (op == PtraceSyscallInfo.OpExit) result = info.ExitRval;
                return true;
            }
            if (status.Event != 0)
            {
                // A group-stop or an event while our call runs: not ours to handle here; go on.
                if (status.Event == PtraceEvent.Stop) continue;
                return false;
            }
            // A signal arrived before the call ran (or a fault at the site): the session delivers it later.
            if (!ptrace.GetSignalInfo(t.Tid, out var siginfo)) return false;
            if (status.StopSignal == Signals.SIGSEGV && siginfo.Addr == t.Rec.Process.Space.SyscallSite)
            {
                t.Rec.Process.Space.SyscallSite = 0; // the site went away (unmapped): look again next time
                return false;
            }
            deferSignal(t, status.StopSignal, siginfo);
        }
        return false;
    }

    /// <summary>The address of a <c>syscall</c> instruction (0f 05) in the thread's address space, or 0.</summary>
    private ulong SyscallSite(TraceeThread t, in UserRegs regs)
    {
        var process = t.Rec.Process;
        var space = process.Space;
        Span<byte> two = stackalloc byte[2];
        if (space.SyscallSite != 0 && IsSyscall(process.Memory.Read(space.SyscallSite, two), two)) return space.SyscallSite;
        space.SyscallSite = Search(process.Pid, process.Memory);
        if (space.SyscallSite != 0) return space.SyscallSite;
        // No executable mapping holds one: the instruction the thread stopped after, if it was a syscall.
        return IsSyscall(process.Memory.Read(regs.Rip - 2, two), two) ? regs.Rip - 2 : 0;
    }

    private static bool IsSyscall(int read, ReadOnlySpan<byte> two) => read == 2 && two[0] == 0x0f && two[1] == 0x05;

    /// <summary>The vDSO first (always there, never written, never ours to change), then the other executable mappings.</summary>
    private static ulong Search(int pid, ProcessMemory memory)
    {
        var executable = ProcMapsParser.Parse(ProcFs.ReadMaps(pid)).Executable;
        foreach (var pass in new[] { true, false })
        {
            foreach (var region in executable)
            {
                if ((region.Name == "[vdso]") != pass || region.Name == "[vsyscall]") continue;
                ulong found = Scan(memory, region.Start, region.End);
                if (found != 0) return found;
            }
        }
        return 0;
    }

    private static ulong Scan(ProcessMemory memory, ulong start, ulong end)
    {
        var buffer = new byte[64 << 10];
        for (ulong at = start; at < end; at += (ulong)buffer.Length - 1)
        {
            int want = (int)Math.Min((ulong)buffer.Length, end - at);
            int got = memory.Read(at, buffer.AsSpan(0, want));
            int i = buffer.AsSpan(0, got).IndexOf((ReadOnlySpan<byte>)[0x0f, 0x05]);
            if (i >= 0) return at + (ulong)i;
            if (got < want) return 0;
        }
        return 0;
    }
}
