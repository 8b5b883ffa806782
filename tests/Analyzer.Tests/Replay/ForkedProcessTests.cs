namespace Ether.Replay.Analyzer.Tests.Replay;

/// <summary>Programs/fork.c built and recorded once with the real recorder.</summary>
public sealed class ForkRecording : IDisposable
{
    public const ulong Shared = 0x700000, Code = 0x710000;
    private readonly TempDir _dir = new();

    public string Trace { get; }
    public ProcessStartEvent Fork { get; }

    public ForkRecording()
    {
        string program = Path.Combine(_dir.Path, "fork");
        FreestandingProgram.Build(_dir.Path, Path.Combine(AppContext.BaseDirectory, "Programs", "fork.c"), program,
            $"-Wl,--section-start=.shared=0x{Shared:x}", $"-Wl,--section-start=.code=0x{Code:x}");
        Trace = RecordedTrace.Record(_dir.Path, "fork", "full", program);
        using var reader = TraceReader.Open(Trace);
        Fork = reader.Events().OfType<ProcessStartEvent>().Single(e => e.How == "fork");
    }

    public string Directory => _dir.Path;

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// A forked child starts with its parent's memory and map: the child's view of a global the parent
/// wrote before the fork is that value until the child writes its own, who wrote it is the parent, the
/// child's later write does not show in the parent, and code the parent wrote is an unpacked layer of
/// the child that runs it.
/// </summary>
public sealed class ForkedProcessTests(ForkRecording fork) : IClassFixture<ForkRecording>
{
    private const ulong BeforeFork = 0x1122334455667788UL;

    [Fact]
    public void A_forked_child_sees_its_parents_memory_and_map_until_it_writes_its_own()
    {
        int parent = fork.Fork.ParentPid, child = fork.Fork.Pid;
        using var session = ReplaySession.Open(fork.Trace);

        var childWrite = session.NextWrite(ForkRecording.Shared, fork.Fork.Step, child);
        Assert.NotNull(childWrite);
        Assert.Equal(child, childWrite.Pid);
        Assert.Equal(BeforeFork + 1, BitConverter.ToUInt64(childWrite.Value));

        // Just before its own write, the child holds what the parent wrote before the fork.
        var seen = session.ReadMemory(childWrite.Step - 1, child, ForkRecording.Shared, 8);
        Assert.All(seen.Known, Assert.True);
        Assert.Equal(BeforeFork, BitConverter.ToUInt64(seen.Bytes));
        var who = session.LastWriteBefore(ForkRecording.Shared, childWrite.Step - 1, child);
        Assert.NotNull(who);
        Assert.Equal(parent, who.Pid);
        Assert.True(who.Step <= fork.Fork.Step);

        // After it, the child's own value; the parent's memory is untouched by it.
        Assert.Equal(BeforeFork + 1, BitConverter.ToUInt64(session.ReadMemory(childWrite.Step, child, ForkRecording.Shared, 8).Bytes));
        Assert.Equal(BeforeFork, BitConverter.ToUInt64(session.ReadMemory(childWrite.Step, parent, ForkRecording.Shared, 8).Bytes));
        Assert.Equal(0xaaUL, BitConverter.ToUInt64(session.ReadMemory(session.LastStep, parent, ForkRecording.Shared, 8).Bytes));

        // The child's map is the parent's (the recorder logs only what changes after the fork).
        var regions = session.RegionsAt(childWrite.Step, child);
        Assert.Contains(regions, r => r.Start <= ForkRecording.Shared && ForkRecording.Shared < r.End);
        Assert.Equal(session.RegionsAt(fork.Fork.Step, parent).Select(r => (r.Start, r.End)), regions.Select(r => (r.Start, r.End)));
    }

    [Fact]
    public void Code_the_parent_wrote_is_an_unpacked_layer_of_the_child_that_runs_it()
    {
        string dataset = Path.Combine(fork.Directory, "dataset");
        if (!System.IO.Directory.Exists(dataset)) TraceExporter.Export(fork.Trace, dataset);
        using var db = AnalysisDatabase.Open(dataset);
        var layers = UnpackReport.Layers(db);
        var unpacked = Assert.Single(layers, l => l.Layer > 0);
        Assert.Equal(fork.Fork.Pid, unpacked.Pid);
        Assert.Equal(1, unpacked.Layer);
        Assert.Equal(ForkRecording.Code, unpacked.EntryAddress);
        // Written by the parent, before the fork: the writer steps come from the parent's copy.
        Assert.NotNull(unpacked.WriterLastStep);
        Assert.True(unpacked.WriterLastStep <= fork.Fork.Step);
    }
}

/// <summary>
/// Hostile fork records: a process that names itself as its parent, two that name each other at the
/// same step, and a parent that never appears. Queries end (fork chains are followed at most 64 deep)
/// and the export and its unpack analysis go through.
/// </summary>
public sealed class HostileForkTests
{
    [Fact]
    public void Self_and_mutual_forks_and_unknown_parents_do_not_loop_or_fail()
    {
        using var dir = new TempDir();
        string trace = dir.File("hostile-forks.etrace");
        using (var w = TraceWriter.Create(trace, FakeRecording.Header("/bin/hostile"), new TraceWriterOptions { ChunkSteps = 8, ChunkAge = TimeSpan.FromHours(1) }))
        {
            w.Write(new ProcessStartEvent { Pid = 10, Tid = 10, ParentPid = 1, How = "spawn" });
            w.Write(new RegionMapEvent { Pid = 10, Tid = 10, Start = 0x400000, End = 0x401000, Protection = RegionProtection.Read | RegionProtection.Write | RegionProtection.Execute });
            for (int s = 1; s <= 60; s++)
            {
                int pid = s < 20 ? 10 : 10 + s % 4 * 10; // 10, 20, 30, 40 once they exist
                if (s == 20)
                {
                    w.Write(new ProcessStartEvent { Pid = 20, Tid = 20, ParentPid = 20, How = "fork" });  // its own parent
                    w.Write(new ProcessStartEvent { Pid = 30, Tid = 30, ParentPid = 40, How = "fork" });  // each other's,
                    w.Write(new ProcessStartEvent { Pid = 40, Tid = 40, ParentPid = 30, How = "clone" }); // same step
                    w.Write(new ProcessStartEvent { Pid = 50, Tid = 50, ParentPid = 999, How = "vfork" }); // never seen
                }
                w.Instruction(pid, pid, 0x400000 + (ulong)(s % 16) * 4, [0x90, 0x90, 0x90, 0x90]);
                w.MemoryWrite(pid, pid, 0x400100 + (ulong)(s % 8), [(byte)s]);
                var regs = new RegisterFile { Rip = 0x400004 };
                w.Registers(pid, pid, regs);
            }
            w.Close(StopReason.Exited);
        }

        using var session = ReplaySession.Open(trace);
        foreach (int pid in new[] { 10, 20, 30, 40, 50 })
            foreach (long step in new long[] { 0, 20, 40, session.LastStep })
            {
                var memory = session.ReadMemory(step, pid, 0x400100, 8);
                Assert.Equal(8, memory.Bytes.Length);
                _ = session.LastWriteBefore(0x400100, step, pid);
                _ = session.RegionsAt(step, pid);
            }
        // The vfork child of an unknown parent sees only its own writes.
        Assert.DoesNotContain(true, session.ReadMemory(20, 50, 0x400100, 8).Known);

        var result = TraceExporter.Export(trace, dir.File("dataset"));
        Assert.Equal(60, result.Instructions);
    }
}
