using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Ether.Replay.Formats.Abi;
using Ether.Replay.Recorder.Backends.Ptrace.Interception;
using Ether.Replay.Recorder.Backends.Ptrace.Modes;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>
/// The ptrace backend's plug-in points on a real program (Programs/intercept.c), in both
/// execution styles: system-call interceptors rewrite a result, skip a call, rewrite what the
/// kernel wrote and rewrite an argument (the program gets its own register back); remote system
/// calls run inside the stopped program (getpid, mmap, fstat into the mapped page, munmap,
/// mprotect of the program's page, prctl) and leave no trace; signal interceptors emulate rdtsc
/// under PR_SET_TSC and fix a page fault. Each test fails without the mechanism it names: the
/// program prints what it saw.
/// </summary>
[Collection("ptrace")]
public sealed class InterceptionTests
{
    private static string Program => TestPrograms.Build("intercept.c", "-O1", "-static");

    public static TheoryData<string> Modes => new() { RecordingModes.Full, RecordingModes.Syscalls };

    [Theory]
    [InlineData("calls")]
    [InlineData("remote")]
    [InlineData("fault")] // dies of SIGSEGV both ways
    public void Without_interceptors_the_program_behaves_as_natively(string part)
    {
        var native = RunNatively(part);
        var recorded = Recordings.Record(Program, [part], RecordingModes.Syscalls);
        // Each run has its own parent (natively the test; recorded, the shell that forks the program).
        static string SameParent(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"ppid=\d+", "ppid=(parent)");
        Assert.Equal(SameParent(native.Stdout), SameParent(recorded.Stdout));
        Assert.Equal(native.ExitCode, recorded.Result.RootExitCode ?? 128 + recorded.Result.RootSignal);
    }

    // ---- system-call interception ---------------------------------------------------------------

    private sealed class CallRewriter : ISyscallInterceptor
    {
        public long OriginalPpid;

        public void OnEntry(SyscallStop stop)
        {
            if (stop.Name is "unlink" or "unlinkat" && PathArgument(stop).EndsWith("marker", StringComparison.Ordinal)) stop.Skip(0);
            if (stop.Name == "write" && stop.Args[2] == 7 && ReadText(stop, stop.Args[1], 7) == "abcdef\n") stop.SetArgument(2, 3);
        }

        public void OnExit(SyscallStop stop)
        {
            if (stop.Name == "getppid")
            {
                OriginalPpid = stop.Return;
                stop.Annotate("test", $"getppid returned {stop.Return}");
                stop.Return = 4242;
            }
            if (stop.Name == "uname" && stop.Return == 0)
                Assert.True(stop.WriteMemory(stop.Args[0] + 65, "intercepted\0"u8)); // struct utsname: nodename after sysname[65]
        }

        private static string PathArgument(SyscallStop stop) => ReadText(stop, stop.Args[stop.Name == "unlinkat" ? 1 : 0], 256).Split('\0')[0];
    }

    private static string ReadText(SyscallStop stop, ulong address, int length)
    {
        var bytes = new byte[length];
        int n = stop.ReadMemory(address, bytes);
        return Encoding.Latin1.GetString(bytes, 0, n);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Syscall_interceptors_change_what_the_program_sees_and_the_trace_records_that(string mode)
    {
        var rewriter = new CallRewriter();
        var run = Recordings.Record(Program, ["calls"], mode, attach: hooks => hooks.Add(rewriter));

        // The program saw: the rewritten result, a skipped unlink (the file is still there), the
        // rewritten nodename, a write of 3 bytes — and its own rdx back after the call.
        Assert.Equal("ppid=4242\nunlink=0 exists=1\nnodename=intercepted\nabc\nwrite=3 rdx=7\n", run.Stdout);

        // The trace holds what the program saw; the original is in the interceptor's annotation.
        var getppid = run.Of<SyscallExitEvent>().Single(e => e.Name == "getppid");
        Assert.Equal(4242, getppid.Return);
        Assert.Contains(run.Of<AnnotationEvent>(), a => a.Key == "test" && a.Text == $"getppid returned {rewriter.OriginalPpid}");
        Assert.True(rewriter.OriginalPpid > 0 && rewriter.OriginalPpid != 4242);

        var uname = run.Of<SyscallEntryEvent>().Single(e => e.Name == "uname");
        var nodename = run.Of<MemoryWriteEvent>().Single(w => w.Flags.HasFlag(MemoryWriteFlags.Kernel) && w.Address == uname.Args[0]);
        Assert.Equal("intercepted\0", Encoding.Latin1.GetString(nodename.Value, 65, 12));

        var write = run.Of<SyscallEntryEvent>().Single(e => e.Name == "write" && e.Args[2] == 7);
        Assert.Equal(7UL, write.Args[2]); // the program's argument, not the kernel's
        Assert.Equal(3, run.Of<SyscallExitEvent>().Single(e => e.Step == write.Step && e.Name == "write").Return);
    }

    // ---- remote system calls ------------------------------------------------------------------

    private sealed class RemoteCaller : ISyscallInterceptor
    {
        public long Pid, GetPid, Mapped, Fstat, Munmap, Mprotect, Prctl;
        public byte[] Stat = [];
        public ulong Page;

        public void OnEntry(SyscallStop stop)
        {
            Assert.Throws<InvalidOperationException>(() => stop.TrySyscall(39, out _)); // not at an entry stop
        }

        public void OnExit(SyscallStop stop)
        {
            if (stop.Name != "sched_yield") return;
            Pid = stop.Pid;
            Page = stop.Args[0];
            Assert.True(stop.TrySyscall(39, out GetPid));
            Assert.True(stop.TrySyscall(9, out Mapped, 0, 4096, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, ulong.MaxValue, 0));
            Assert.True(stop.TrySyscall(5, out Fstat, 0, (ulong)Mapped)); // fstat(0 = /dev/null, scratch)
            Stat = new byte[144];
            Assert.Equal(144, stop.ReadMemory((ulong)Mapped, Stat));
            Assert.True(stop.TrySyscall(11, out Munmap, (ulong)Mapped, 4096));
            Assert.True(stop.TrySyscall(10, out Mprotect, Page, 4096, 1 /* PROT_READ */));
            Assert.True(stop.TrySyscall(157, out Prctl, 26 /* PR_SET_TSC */, 2 /* PR_TSC_SIGSEGV */));
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Remote_syscalls_run_inside_the_stopped_program_and_leave_it_as_it_was(string mode)
    {
        var caller = new RemoteCaller();
        // Without the transparency layer: it would show the program its own TSC mode (docs/transparency.md), not the one set remotely here.
        var run = Recordings.Record(Program, ["remote"], mode, attach: hooks => hooks.Add(caller), transparent: false);

        Assert.Equal(caller.Pid, caller.GetPid);
        Assert.True(caller.Mapped > 0 && caller.Mapped % 4096 == 0, $"mmap returned {caller.Mapped}");
        Assert.Equal(0, caller.Fstat);
        uint stMode = BinaryPrimitives.ReadUInt32LittleEndian(caller.Stat.AsSpan(24));
        ulong stRdev = BinaryPrimitives.ReadUInt64LittleEndian(caller.Stat.AsSpan(40));
        Assert.Equal(0x2000u, stMode & 0xF000); // S_IFCHR
        Assert.Equal(0x103UL, stRdev);          // /dev/null is char device 1:3
        Assert.Equal(0, caller.Munmap);
        Assert.Equal(0, caller.Mprotect);
        Assert.Equal(0, caller.Prctl);

        // The effects stayed in the program (its page read-only, its TSC mode set); the program went
        // on with its own registers as if nothing happened.
        Assert.Equal("page=r--p tsc=2\nafter=ok\n", run.Stdout);
        Assert.Equal(0, run.Result.RootExitCode);

        // Nothing of the remote calls is in the trace.
        var entries = run.Of<SyscallEntryEvent>().ToList();
        Assert.DoesNotContain(entries, e => e.Name == "mprotect" && e.Args[0] == caller.Page);
        Assert.DoesNotContain(entries, e => e.Name == "prctl" && e.Args[0] == 26);
        Assert.DoesNotContain(entries, e => e.Name is "fstat" or "munmap" && e.Args[0] == (ulong)caller.Mapped);
        if (mode == RecordingModes.Full)
        {
            // The step after the marker's syscall instruction is the next instruction: the thread
            // resumed exactly where it stopped.
            var instructions = run.Of<InstructionEvent>().ToList();
            var marker = entries.Single(e => e.Name == "sched_yield");
            int at = instructions.FindIndex(i => i.Step == marker.Step);
            Assert.Equal(instructions[at].Rip + 2, instructions[at + 1].Rip);
        }
    }

    // ---- signal interception ------------------------------------------------------------------

    private sealed class RdtscEmulator : ISignalInterceptor
    {
        public int Emulated;

        public void OnSignal(SignalStop stop)
        {
            if (stop.Signo != Signals.SIGSEGV) return;
            Span<byte> code = stackalloc byte[2];
            if (stop.ReadMemory(stop.Registers.Rip, code) != 2 || code[0] != 0x0f || code[1] != 0x31) return;
            var regs = stop.Registers;
            regs.Rax = 0x1234;
            regs.Rdx = 0x5678;
            regs.Rip += 2;
            stop.Emulate(regs);
            Emulated++;
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_signal_interceptor_emulates_rdtsc_under_PR_SET_TSC_as_one_step(string mode)
    {
        var emulator = new RdtscEmulator();
        var run = Recordings.Record(Program, ["rdtsc"], mode, attach: hooks => hooks.Add(emulator));

        Assert.Equal("tsc=0x567800001234\n", run.Stdout);
        Assert.Equal(0, run.Result.RootExitCode);
        Assert.Equal(1, emulator.Emulated);
        Assert.DoesNotContain(run.Of<SignalEvent>(), s => s.Signo == Signals.SIGSEGV);
        // The rdtsc is in the trace once, as a step (in native style too: a step of its own).
        Assert.Single(run.Of<InstructionEvent>(), i => i.Bytes.AsSpan().SequenceEqual((byte[])[0x0f, 0x31]));
    }

    [Fact]
    public void Without_the_emulator_rdtsc_kills_the_program_as_natively()
    {
        var native = RunNatively("rdtsc");
        Assert.Equal(128 + Signals.SIGSEGV, native.ExitCode);
        var run = Recordings.Record(Program, ["rdtsc"], RecordingModes.Syscalls);
        Assert.Equal(Signals.SIGSEGV, run.Result.RootSignal);
        Assert.Contains(run.Of<SignalEvent>(), s => s.Signo == Signals.SIGSEGV);
    }

    private sealed class FaultFixer : ISignalInterceptor
    {
        public int Fixed;

        public void OnSignal(SignalStop stop)
        {
            if (stop.Signo != Signals.SIGSEGV || stop.Code != 2 /* SEGV_ACCERR */) return;
            Assert.True(stop.TrySyscall(10, out long r, stop.Address & ~0xfffUL, 4096, 3 /* PROT_READ|PROT_WRITE */));
            Assert.Equal(0, r);
            stop.Suppress();
            Fixed++;
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_signal_interceptor_fixes_a_page_fault_and_the_instruction_runs_again(string mode)
    {
        var fixer = new FaultFixer();
        var run = Recordings.Record(Program, ["fault"], mode, attach: hooks => hooks.Add(fixer));

        Assert.Equal("page=42\n", run.Stdout);
        Assert.Equal(1, fixer.Fixed);
        Assert.DoesNotContain(run.Of<SignalEvent>(), s => s.Signo == Signals.SIGSEGV);
        if (mode == RecordingModes.Full)
        {
            // The faulting store was abandoned, then stepped again: in the trace once, with its write.
            var store = run.Of<MemoryWriteEvent>().Single(w => !w.Flags.HasFlag(MemoryWriteFlags.Kernel) && w.Value.SequenceEqual((byte[])[42]));
            var instructions = run.Of<InstructionEvent>().ToList();
            var storeInstruction = instructions.Single(i => i.Step == store.Step);
            Assert.Single(instructions, i => i.Rip == storeInstruction.Rip);
        }
    }

    private static (string Stdout, int ExitCode) RunNatively(string part)
    {
        string dir = Directory.CreateTempSubdirectory("ether-test-native-").FullName;
        try
        {
            var psi = new ProcessStartInfo(Program, part) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardInput = true };
            using var p = Process.Start(psi)!;
            p.StandardInput.Close();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (stdout, p.ExitCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
