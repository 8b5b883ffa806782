using Ether.Replay.Formats.Synthetic;
using P = Ether.Replay.Tests.Shared.FakePackedProgram;

namespace Ether.Replay.Analyzer.Tests.Replay;

/// <summary>The replay engine against a brute-force replay of every event (ReplayOracle), at many steps.</summary>
public sealed class ReplaySessionTests
{
    public static TheoryData<string> Traces => new() { "allkinds", "packed3", "synthetic-threads", "syscalls-only" };

    private static void Write(string name, string path)
    {
        switch (name)
        {
            case "allkinds": AllKindsTrace.Write(path); break;
            case "packed3": P.Write(path, 3); break;
            case "syscalls-only":
                // What `ether record --mode syscalls` writes: a tick per call, registers with rip, kernel writes.
                using (var w = TraceWriter.Create(path, FakeRecording.Header("/bin/ticks"), new TraceWriterOptions { ChunkSteps = 7, ChunkAge = TimeSpan.FromHours(1) }))
                {
                    var regs = new RegisterFile();
                    for (int i = 1; i <= 60; i++)
                    {
                        int tid = i % 3 == 0 ? 51 : 50;
                        w.Tick();
                        w.Write(new SyscallEntryEvent { Pid = 50, Tid = tid, Abi = "linux-x86_64", Number = 0, Name = "read", Args = [0, 0x5000, 8, 0, 0, 0], Decoded = ["0", "0x5000", "8"] });
                        w.Write(new SyscallExitEvent { Pid = 50, Tid = tid, Abi = "linux-x86_64", Number = 0, Name = "read", Return = 8 });
                        w.MemoryWrite(50, tid, 0x5000, [(byte)i, 1, 2, 3, 4, 5, 6, 7], MemoryWriteFlags.Kernel);
                        regs.Rip = 0x401000 + (ulong)i * 2;
                        regs[Register.Rax] = 8;
                        regs[Register.Rcx] = (ulong)i;
                        w.Registers(50, tid, regs);
                    }
                    w.Close(StopReason.Exited);
                }
                break;
            case "synthetic-threads":
                using (var w = TraceWriter.Create(path, FakeRecording.Header("/synthetic"), new TraceWriterOptions { ChunkSteps = 500, ChunkAge = TimeSpan.FromHours(1) }))
                {
                    SyntheticTrace.Write(w, new SyntheticOptions { Instructions = 6000, Threads = 3, SyscallEvery = 400, Seed = 5 });
                    w.Close(StopReason.Exited);
                }
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Traces))]
    public void Registers_after_any_step_match_a_replay_of_every_event(string name)
    {
        using var dir = new TempDir();
        string path = dir.File(name + ".etrace");
        Write(name, path);
        var oracle = new ReplayOracle(path);
        using var session = ReplaySession.Open(path);
        var rng = new Random(3);
        var steps = Enumerable.Range(0, 120).Select(_ => (long)rng.Next(0, (int)session.LastStep + 1)).Concat([0, session.LastStep]).Distinct();
        foreach (long step in steps)
        {
            var expected = oracle.Registers(step);
            var state = session.StateAt(step);
            Assert.Equal(expected.Keys.Order(), state.Threads.Select(t => (t.Pid, t.Tid)).Order());
            foreach (var t in state.Threads)
            {
                var (registers, ripKnown) = expected[(t.Pid, t.Tid)];
                Assert.True(registers.Equals(t.Registers), $"step {step} thread {t.Tid}: expected {registers}, got {t.Registers}");
                Assert.Equal(ripKnown, t.RipKnown);
            }
            var executed = oracle.Events.OfType<InstructionEvent>().FirstOrDefault(i => i.Step == step);
            Assert.Equal(executed?.Rip, state.Executed?.Rip);
        }
    }

    [Theory]
    [MemberData(nameof(Traces))]
    public void Memory_after_any_step_matches_a_replay_of_every_event(string name)
    {
        using var dir = new TempDir();
        string path = dir.File(name + ".etrace");
        Write(name, path);
        var oracle = new ReplayOracle(path);
        using var session = ReplaySession.Open(path);
        var rng = new Random(4);
        // Addresses the trace touches: code, written memory, snapshots — plus their neighbours.
        var addresses = oracle.Events.SelectMany(e => e switch
        {
            InstructionEvent i => [i.Rip],
            MemoryWriteEvent w => [w.Address, w.Address + (ulong)w.Size - 1, w.Address + 2],
            RegionSnapshotEvent s => [s.Address + 3],
            _ => Array.Empty<ulong>(),
        }).Distinct().ToArray();
        var pids = oracle.Events.Select(e => e.Pid).Where(p => p != 0).Distinct().ToArray();
        int knownSeen = 0, unknownSeen = 0;
        for (int n = 0; n < 150; n++)
        {
            long step = rng.Next(0, (int)session.LastStep + 1);
            int pid = pids[rng.Next(pids.Length)];
            ulong address = addresses[rng.Next(addresses.Length)] - (ulong)rng.Next(0, 24);
            int length = rng.Next(1, 64);
            var expected = oracle.Memory(step, pid, address, length);
            var actual = session.ReadMemory(step, pid, address, length);
            for (int i = 0; i < length; i++)
            {
                Assert.True(expected[i].HasValue == actual.Known[i], $"step {step} pid {pid} byte {address + (ulong)i:x}: known {expected[i].HasValue} vs {actual.Known[i]}");
                if (expected[i] is { } b) { Assert.Equal(b, actual.Bytes[i]); knownSeen++; }
                else unknownSeen++;
            }
        }
        Assert.True(knownSeen > 100, $"only {knownSeen} known bytes checked");
        Assert.True(unknownSeen > 0);
    }

    [Theory]
    [MemberData(nameof(Traces))]
    public void Who_wrote_and_executions_match_a_scan_of_every_event(string name)
    {
        using var dir = new TempDir();
        string path = dir.File(name + ".etrace");
        Write(name, path);
        var oracle = new ReplayOracle(path);
        using var session = ReplaySession.Open(path);
        var rng = new Random(5);
        var writes = oracle.Events.OfType<MemoryWriteEvent>().ToArray();
        var instructions = oracle.Events.OfType<InstructionEvent>().ToArray();
        int found = 0;
        for (int n = 0; n < 120; n++)
        {
            long step = rng.Next(0, (int)session.LastStep + 1);
            var w = writes[rng.Next(writes.Length)];
            ulong address = w.Address + (ulong)rng.Next(0, (int)Math.Min(w.Size, 8));
            var last = oracle.LastWrite(address, step, w.Pid);
            var got = session.LastWriteBefore(address, step, w.Pid);
            Assert.Equal(last?.Step, got?.Step);
            Assert.Equal(last?.Address, got?.Address);
            if (got != null) { Assert.Equal(last!.Value, got.Value); found++; }
            var next = oracle.NextWrite(address, step, w.Pid);
            var gotNext = session.NextWrite(address, step, w.Pid);
            Assert.Equal(next?.Step, gotNext?.Step);
            Assert.Equal(next?.Address, gotNext?.Address);

            if (instructions.Length == 0) continue;
            ulong rip = instructions[rng.Next(instructions.Length)].Rip;
            Assert.Equal(oracle.NextExecution(rip, step), session.NextExecution(rip, step));
            Assert.Equal(oracle.PreviousExecution(rip, step), session.PreviousExecution(rip, step));
        }
        Assert.True(found > 10);
    }

    [Fact]
    public void The_writer_of_a_decrypted_byte_is_the_xor_of_the_layer_before()
    {
        using var dir = new TempDir();
        string path = dir.File("p.etrace");
        P.Write(path, 2);
        using var session = ReplaySession.Open(path);
        var w = session.LastWriteBefore(P.PayloadAddress + 3, session.LastStep, P.Pid)!;
        Assert.Equal(P.StubLoop(2, false) + 5, w.Rip);
        Assert.Equal(P.LayerCode(1, 2)[3], w.Value[0]);
        Assert.False(w.Kernel);
        // The decrypted layer, read back at its first execution, is the plain code.
        long entry = session.NextExecution(P.PayloadAddress, 0)!.Value;
        var code = session.ReadMemory(entry, P.Pid, P.PayloadAddress, P.LayerCode(1, 2).Length);
        Assert.All(code.Known, Assert.True);
        Assert.Equal(P.LayerCode(1, 2), code.Bytes);
        // Before the first write there, the byte is known only from that write's old value (a later observation).
        var before = session.ReadMemory(0, P.Pid, P.PayloadAddress, 1);
        var first = session.NextWrite(P.PayloadAddress, 0, P.Pid)!;
        Assert.True(before.Known[0] && before.Later[0]);
        Assert.Equal(first.Value[(int)(P.PayloadAddress - first.Address)] ^ 0x5a, before.Bytes[0]);
        Assert.Null(session.PreviousExecution(P.PayloadAddress, entry));
    }

    [Fact]
    public void Instructions_page_lists_steps_in_order_across_chunks()
    {
        using var dir = new TempDir();
        string path = dir.File("p.etrace");
        P.Write(path, 3);
        var oracle = new ReplayOracle(path);
        using var session = ReplaySession.Open(path);
        var page = session.InstructionsPage(50, 200);
        var expected = oracle.Events.OfType<InstructionEvent>().Where(i => i.Step >= 50).Take(200).ToList();
        Assert.Equal(expected.Select(i => (i.Step, i.Rip, Convert.ToHexString(i.Bytes))), page.Select(r => (r.Step, r.Rip, Convert.ToHexString(r.Bytes))));
        Assert.Equal("xor byte ptr [rdi], 0x5a", session.Disassemble(session.InstructionsPage(session.NextExecution(P.StubLoop(3, false) + 5, 0)!.Value, 1)[0]));
    }

    [Fact]
    public void The_memory_map_follows_map_protect_and_unmap()
    {
        using var dir = new TempDir();
        string path = dir.File("p.etrace");
        P.Write(path, 3);
        using var session = ReplaySession.Open(path);
        var regions = session.RegionsAt(session.LastStep, P.Pid);
        Assert.Contains(regions, r => r.Start == P.FreshBase && r.End == P.FreshBase + 0x10000 && r.Name == "");
        Assert.Contains(regions, r => r.Start == P.PayloadAddress && r.Name == P.Target);
        Assert.DoesNotContain(session.RegionsAt(0, P.Pid), r => r.Start == P.FreshBase);
    }

    [Fact]
    public void A_step_outside_the_trace_is_refused()
    {
        using var dir = new TempDir();
        string path = dir.File("p.etrace");
        P.Write(path, 1);
        using var session = ReplaySession.Open(path);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => session.StateAt(session.LastStep + 1));
        Assert.Contains("outside the trace", e.Message);
    }
}
