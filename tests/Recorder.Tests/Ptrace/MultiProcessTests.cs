namespace Ether.Replay.Recorder.Tests.Ptrace;

[Collection("ptrace")]
public sealed class MultiProcessTests
{
    [Fact]
    public void Fork_and_two_threads_every_instruction_and_syscall_attributed_to_its_thread()
    {
        string program = TestPrograms.Build("forkthreads.c", "-O1", "-static", "-pthread");
        var sym = ElfSymbols.Read(program);
        var run = Recordings.Record(program, []);

        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
        Assert.Equal("ABP", string.Concat(run.Stdout.Order())); // A and B in either order, P last

        // Processes: the target (spawn) and its fork child; threads: two in the child.
        var starts = run.Of<ProcessStartEvent>().ToList();
        Assert.Equal(["spawn", "fork"], starts.Select(p => p.How));
        int parent = starts[0].Pid, child = starts[1].Pid;
        Assert.Equal(parent, starts[1].ParentPid);
        var threads = run.Of<ThreadStartEvent>().ToList();
        Assert.Equal(2, threads.Count);
        Assert.All(threads, t => Assert.Equal(child, t.Pid));
        Assert.All(threads, t => Assert.Equal(child, t.ParentTid));
        Assert.Equal(2, run.Of<ThreadExitEvent>().Count(t => t.Pid == child));
        Assert.Equal(2, run.Of<ProcessExitEvent>().Count());

        // Every gettid / getpid returns the ids of the thread the trace attributes the call to.
        var exits = run.Of<SyscallExitEvent>().ToList();
        var gettid = exits.Where(e => e.Name == "gettid").ToList();
        var getpid = exits.Where(e => e.Name == "getpid").ToList();
        Assert.Equal(2, gettid.Count);
        Assert.Equal(2, getpid.Count);
        Assert.All(gettid, e => Assert.Equal(e.Tid, (int)e.Return));
        Assert.All(getpid, e => Assert.Equal(e.Pid, (int)e.Return));
        Assert.All(getpid, e => Assert.Equal(child, e.Pid));

        // Every instruction inside worker_a ran on one thread of the child, worker_b on the other.
        int Owner(string function)
        {
            var (start, size) = sym[function];
            var tids = run.Of<InstructionEvent>().Where(i => i.Rip >= start && i.Rip < start + size)
                .Select(i => (i.Pid, i.Tid)).Distinct().ToList();
            var only = Assert.Single(tids);
            Assert.Equal(child, only.Pid);
            return only.Tid;
        }
        int a = Owner("worker_a"), b = Owner("worker_b");
        Assert.NotEqual(a, b);
        Assert.Equal(threads.Select(t => t.Tid).Order(), new[] { a, b }.Order());

        // Each worker's write(1, marker) is attributed to its thread; the parent's to the parent.
        var writes = run.Of<SyscallEntryEvent>().Where(e => e.Name == "write").ToList();
        Assert.Equal(3, writes.Count);
        Assert.Contains(writes, w => w.Tid == a && w.Args[2] == 1);
        Assert.Contains(writes, w => w.Tid == b && w.Args[2] == 1);
        Assert.Contains(writes, w => w.Tid == parent && w.Pid == parent);

        // Instruction events of a thread only appear between its start and its exit.
        foreach (var t in threads)
        {
            long born = t.Step;
            long died = run.Of<ThreadExitEvent>().Single(x => x.Tid == t.Tid).Step;
            var own = run.Of<InstructionEvent>().Where(i => i.Tid == t.Tid).ToList();
            Assert.NotEmpty(own);
            Assert.All(own, i => Assert.InRange(i.Step, born + 1, died));
        }
    }
}
