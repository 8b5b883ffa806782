using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tests.Shared;

/// <summary>
/// A small deterministic trace with every event kind, two processes, several threads, kernel,
/// truncated and old-value writes, unfinished and failed system calls, spread over many small
/// chunks so every importer crosses chunk boundaries.
/// </summary>
internal static class AllKindsTrace
{
    public static void Write(string path, int steps = 400, int chunkSteps = 16)
    {
        using var w = TraceWriter.Create(path, FakeRecording.Header("/bin/allkinds"), new TraceWriterOptions { ChunkSteps = chunkSteps, ChunkAge = TimeSpan.FromHours(1) });
        var rng = new Random(11);
        (int Pid, int Tid)[] threads = [(10, 10), (10, 11), (20, 20)];
        var regs = new RegisterFile[threads.Length];
        w.Write(new ProcessStartEvent { Pid = 10, Tid = 10, ParentPid = 1, How = "spawn" });
        w.Write(new ExecEvent { Pid = 10, Tid = 10, Path = "/bin/allkinds", Argv = ["allkinds", "it's", "a b"] });
        w.Write(new RegionMapEvent { Pid = 10, Tid = 10, Start = 0x400000, End = 0x402000, Protection = RegionProtection.Read | RegionProtection.Execute, Name = "/bin/allkinds", FileOffset = 0 });
        w.Write(new RegionSnapshotEvent { Pid = 10, Tid = 10, Address = 0x400000, Reason = "exec", Bytes = Enumerable.Range(0, 256).Select(i => (byte)(i * 7)).ToArray() });
        for (int s = 1; s <= steps; s++)
        {
            int t = s % 7 == 0 ? 1 : s % 11 == 0 && s > 60 ? 2 : 0; // pid 20 runs once forked (step 60)
            var (pid, tid) = threads[t];
            if (s == 50) w.Write(new ThreadStartEvent { Pid = 10, Tid = 11, ParentTid = 10 });
            if (s == 60) w.Write(new ProcessStartEvent { Pid = 20, Tid = 20, ParentPid = 10, How = "fork" });
            int len = 1 + rng.Next(5);
            var code = new byte[len];
            rng.NextBytes(code);
            ulong rip = 0x400000 + (ulong)rng.Next(0x1000);
            if (s % 13 == 0) w.Tick();
            else w.Instruction(pid, tid, rip, code);
            if (s % 3 == 0) w.MemoryWrite(pid, tid, 0x7ffd0000UL + (ulong)rng.Next(512), [(byte)s, 2, 3, 4]);
            if (s % 17 == 0) w.MemoryWrite(pid, tid, 0x600000UL + (ulong)s, [9, 8, 7], MemoryWriteFlags.Kernel | MemoryWriteFlags.HasOldValue, [1, 1, 1]);
            if (s % 29 == 0) w.MemoryWrite(pid, tid, 0x700000UL, 100, [5, 5, 5, 5], MemoryWriteFlags.Kernel);
            regs[t][Register.Rax] = (ulong)s;
            regs[t][Register.Rsp] = 0x7ffe0000UL - (ulong)(s % 64) * 8;
            if (s % 5 == 0) regs[t][Register.Rflags] ^= 0x40;
            regs[t].Rip = rip + (ulong)len;
            w.Registers(pid, tid, regs[t]);
            switch (s % 37)
            {
                case 3:
                    w.Write(new SyscallEntryEvent { Pid = pid, Tid = tid, Abi = "linux-x86_64", Number = 2, Name = "open", Args = [0x1000, 0, 0, 0, 0, 0], Decoded = ["\"/etc/x\"", "O_RDONLY"] });
                    break;
                case 4:
                    w.Write(new SyscallExitEvent { Pid = pid, Tid = tid, Abi = "linux-x86_64", Number = 2, Name = "open", Return = -2, Errno = 2 });
                    break;
                case 8:
                    w.Write(new SyscallEntryEvent { Pid = pid, Tid = tid, Abi = "linux-x86_64", Number = 0, Name = "read", Args = [3, 0x600000, 64, 0, 0, 0], Decoded = ["3", "0x600000", "64"] });
                    w.Write(new SyscallExitEvent { Pid = pid, Tid = tid, Abi = "linux-x86_64", Number = 0, Name = "read", Return = 5, Decoded = ["3", "\"hello\"", "64"] });
                    break;
                case 12:
                    w.Write(new RegionMapEvent { Pid = pid, Tid = tid, Start = 0x7f0000000000, End = 0x7f0000010000, Protection = RegionProtection.Read | RegionProtection.Write, Name = "" });
                    break;
                case 14:
                    w.Write(new RegionProtectEvent { Pid = pid, Tid = tid, Start = 0x7f0000000000, End = 0x7f0000001000, Protection = RegionProtection.Read });
                    break;
                case 16:
                    w.Write(new RegionUnmapEvent { Pid = pid, Tid = tid, Start = 0x7f0000000000, End = 0x7f0000010000 });
                    break;
                case 20:
                    w.Write(new SignalEvent { Pid = pid, Tid = tid, Signo = 11, Name = "SIGSEGV", Code = 1, Address = 0xdead, Disposition = "delivered" });
                    break;
                case 22:
                    w.Write(new AnnotationEvent { Pid = pid, Tid = tid, Key = "note", Text = $"at {s}" });
                    break;
                case 30:
                    w.Write(new FileEvent { Pid = pid, Tid = tid, Op = FileOps.Write, Call = "write", Fd = 3, Device = 0x801, Inode = (ulong)s, Path = "/tmp/dropped", Offset = -1, Length = 64, Size = 64 * s });
                    break;
                case 31:
                    w.Write(new FileEvent { Pid = pid, Tid = tid, Op = FileOps.Exec, Call = "execveat", Fd = 3, Device = 0x801, Inode = 999_999, Path = "/memfd:x (deleted)", Size = 4, Bytes = [0x7f, 0x45, 0x4c, (byte)s] });
                    break;
                case 25:
                    w.Write(new RegionSnapshotEvent { Pid = pid, Tid = tid, Address = 0x7ffd0000, Reason = "request", Bytes = [1, 2, 3, (byte)s] });
                    break;
            }
        }
        w.Write(new SyscallEntryEvent { Pid = 20, Tid = 20, Abi = "linux-x86_64", Number = 231, Name = "exit_group", Args = [3, 0, 0, 0, 0, 0], Decoded = ["3"] });
        w.Write(new ProcessExitEvent { Pid = 20, Tid = 20, ExitCode = 3 });
        w.Write(new ThreadExitEvent { Pid = 10, Tid = 11, ExitCode = 0 });
        w.Close(StopReason.Exited);
    }
}
