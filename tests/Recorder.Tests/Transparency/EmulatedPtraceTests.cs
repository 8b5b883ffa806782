using System.Buffers.Binary;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.PtraceEmulation;

namespace Ether.Replay.Recorder.Tests.Transparency;

/// <summary>The program's own ptrace use, against the emulation, with a fake recording around it.</summary>
public sealed class EmulatedPtraceTests
{
    private const int Shell = 10, Parent = 100, Child = 101;
    private const ulong Secret = 0x4000, Out = 0x8000;

    private sealed class Host : IEmulationHost
    {
        public readonly Dictionary<int, FakeMemory> Memory = new() { [Parent] = new(), [Child] = new() };
        public readonly HashSet<int> Stopped = [];
        public readonly List<(int Pid, int Signo)> Signals = [];
        public bool IsInRecording(int pid) => pid is Parent or Child;
        public int ParentOf(int pid) => pid == Child ? Parent : Shell;
        public bool TryGetRegisters(int tid, Span<ulong> regs) { for (int i = 0; i < regs.Length; i++) regs[i] = (ulong)(1000 + i); return true; }
        public int ReadMemory(int pid, ulong address, Span<byte> into) => Memory[pid].Read(address, into);
        public bool WriteMemory(int pid, ulong address, ReadOnlySpan<byte> bytes) { Memory[pid].Write(address, bytes); return true; }
        public void SetStopped(int pid, bool stopped) { if (stopped) Stopped.Add(pid); else Stopped.Remove(pid); }
        public void Signal(int pid, int signo) => Signals.Add((pid, signo));
    }

    private readonly Host _host = new();
    private readonly EmulatedPtrace _emulation;

    public EmulatedPtraceTests()
    {
        _emulation = new EmulatedPtrace(_host);
        _host.Memory[Parent].Write(Secret, BitConverter.GetBytes(0x5ec12e7c0ffeeUL));
        _host.Memory[Child].Map(Out, 256);
    }

    private long Ptrace(int caller, long request, int pid, ulong addr = 0, ulong data = 0)
    {
        var call = new FakeSyscall(caller, caller, 101, _host.Memory[caller], (ulong)request, (ulong)pid, addr, data);
        Assert.True(_emulation.OnEntry(call));
        Assert.True(call.Skipped);
        return call.Return;
    }

    private FakeSyscall Wait4(int caller, int pid, int options = 0)
    {
        var call = new FakeSyscall(caller, caller, 61, _host.Memory[caller], (ulong)pid, Out, (ulong)options, 0);
        _emulation.OnEntry(call);
        return call;
    }

    private ulong Word(int pid, ulong at) => BinaryPrimitives.ReadUInt64LittleEndian(_host.Memory[pid].Get(at, 8));

    [Fact]
    public void Traceme_succeeds_once_and_names_the_parent_as_tracer()
    {
        Assert.Equal(0, Ptrace(Parent, 0, 0));
        Assert.Equal(-1, Ptrace(Parent, 0, 0)); // EPERM
        Assert.Equal(Shell, _emulation.TracerOf(Parent));
        Assert.False(_emulation.IsStopped(Parent));
        // A child cannot attach to a process that is already traced.
        Assert.Equal(-1, Ptrace(Child, 16, Parent));
    }

    [Fact]
    public void A_child_attaches_to_its_parent_waits_for_the_stop_peeks_and_detaches()
    {
        Assert.Equal(0, Ptrace(Child, 16, Parent));                    // PTRACE_ATTACH
        Assert.True(_emulation.IsStopped(Parent));
        Assert.Contains(Parent, _host.Stopped);
        Assert.Equal(Child, _emulation.TracerOf(Parent));

        var wait = Wait4(Child, Parent, 0x40000000);
        Assert.True(wait.Skipped);
        Assert.Equal(Parent, wait.Return);
        Assert.Equal(0x137f, BinaryPrimitives.ReadInt32LittleEndian(_host.Memory[Child].Get(Out, 4))); // stopped by SIGSTOP

        Assert.Equal(0, Ptrace(Child, 2, Parent, Secret, Out));         // PTRACE_PEEKDATA
        Assert.Equal(0x5ec12e7c0ffeeUL, Word(Child, Out));
        Assert.Equal(0, Ptrace(Child, 5, Parent, Secret, 0x1122));      // PTRACE_POKEDATA
        Assert.Equal(0x1122UL, Word(Parent, Secret));
        Assert.Equal(0, Ptrace(Child, 12, Parent, 0, Out));             // PTRACE_GETREGS
        Assert.Equal(1000UL + 16, Word(Child, Out + 16 * 8));           // rip is word 16

        Assert.Equal(0, Ptrace(Child, 17, Parent, 0, 0));               // PTRACE_DETACH
        Assert.False(_emulation.IsStopped(Parent));
        Assert.DoesNotContain(Parent, _host.Stopped);
        Assert.Equal(0, _emulation.TracerOf(Parent));
        Assert.Equal(-3, Ptrace(Child, 2, Parent, Secret, Out));        // no longer its tracee: ESRCH
    }

    [Fact]
    public void Seize_and_interrupt_report_an_event_stop_and_debug_registers_are_clear()
    {
        Assert.Equal(0, Ptrace(Child, 0x4206, Parent));                 // PTRACE_SEIZE
        Assert.False(_emulation.IsStopped(Parent));
        Assert.Equal(-3, Ptrace(Child, 3, Parent, 848, Out));           // not stopped yet: ESRCH
        var nothing = Wait4(Child, Parent, 1);                          // WNOHANG
        Assert.Equal(0, nothing.Return);
        Assert.Equal(0, Ptrace(Child, 0x4207, Parent));                 // PTRACE_INTERRUPT
        var wait = Wait4(Child, Parent);
        Assert.Equal(Parent, wait.Return);
        int status = BinaryPrimitives.ReadInt32LittleEndian(_host.Memory[Child].Get(Out, 4));
        Assert.Equal(0x7f, status & 0xff);
        Assert.Equal(5, (status >> 8) & 0xff);                          // SIGTRAP
        Assert.Equal(128, status >> 16);                                // PTRACE_EVENT_STOP
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(0, Ptrace(Child, 3, Parent, (ulong)(848 + 8 * i), Out));
            Assert.Equal(0UL, Word(Child, Out));
        }
        Assert.Equal(0, Ptrace(Child, 6, Parent, 848 + 7 * 8, 0x401));  // the tracer sets DR7
        Assert.Equal(0, Ptrace(Child, 3, Parent, 848 + 7 * 8, Out));
        Assert.Equal(0x401UL, Word(Child, Out));
        Assert.Equal(0, Ptrace(Child, 7, Parent, 0, 10));               // PTRACE_CONT with SIGUSR1
        Assert.Equal((Parent, 10), Assert.Single(_host.Signals));
        Assert.False(_emulation.IsStopped(Parent));
    }

    [Fact]
    public void The_tracer_is_told_when_its_tracee_dies_and_a_dead_tracer_lets_go()
    {
        Assert.Equal(0, Ptrace(Child, 16, Parent));
        Wait4(Child, Parent);
        _emulation.ProcessExited(Child, 0);                             // the tracer dies without detaching
        Assert.False(_emulation.IsStopped(Parent));
        Assert.DoesNotContain(Parent, _host.Stopped);
        Assert.Equal(0, _emulation.TracerOf(Parent));

        Assert.Equal(0, Ptrace(Parent, 0x4206, Child));                 // the parent seizes its child, which exits
        _emulation.ProcessExited(Child, 3 << 8);
        var wait = Wait4(Parent, Child);
        Assert.Equal(Child, wait.Return);
        Assert.Equal(3 << 8, BinaryPrimitives.ReadInt32LittleEndian(_host.Memory[Parent].Get(Out, 4)));
    }

    [Fact]
    public void Refusals_are_the_kernels()
    {
        Assert.Equal(-1, Ptrace(Parent, 16, Parent));                   // itself: EPERM
        var outside = new FakeSyscall(Parent, Parent, 101, _host.Memory[Parent], 16, 999, 0, 0);
        Assert.False(_emulation.OnEntry(outside));                      // outside the recording: the kernel's (or the sandbox's) answer
        Assert.False(outside.Skipped);
        Assert.Equal(-3, Ptrace(Parent, 7, Child));                     // not its tracee
        Assert.Equal(0, Ptrace(Parent, 16, Child));
        Assert.Equal(-5, Ptrace(Parent, 9, Child));                     // PTRACE_SINGLESTEP: not emulated (EIO)
        // Calls that are not ptrace, and waits for real children, go to the kernel.
        var other = new FakeSyscall(Parent, Parent, 39, _host.Memory[Parent]);
        Assert.False(_emulation.OnEntry(other));
        Assert.False(Wait4(Parent, 555).Skipped);
    }
}
