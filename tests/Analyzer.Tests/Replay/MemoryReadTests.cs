namespace Ether.Replay.Analyzer.Tests.Replay;

/// <summary>
/// What a step read, and memory the trace shows only later: a byte no event before a step shows takes
/// its first later observation (the recorder's snapshot before a first read, an executed instruction's
/// bytes, a write's old value) when nothing the trace records changed it in between. Traces made with
/// the <see cref="FakeRecording"/>; the replay, export and tables are real.
/// </summary>
public sealed class MemoryReadTests
{
    private const int Pid = 100, Tid = 100;
    private const ulong Code = 0x401000, Data = 0x10000;
    private static readonly byte[] Nop = [0x90];
    // mov rax, [rbx]
    private static readonly byte[] LoadRbx = [0x48, 0x8b, 0x03];

    private static byte[] Page(byte seed) => Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 + seed)).ToArray();

    /// <summary>Steps 1..8 run a nop each; <paramref name="at"/> adds events after the instruction of a step.</summary>
    private static string Trace(TempDir dir, Action<FakeRecording, int> at, string name = "t.etrace")
    {
        string path = dir.File(name);
        using var writer = TraceWriter.Create(path, FakeRecording.Header("/bin/fake"));
        var fake = new FakeRecording(writer, Pid, Tid);
        writer.Write(new ProcessStartEvent { Pid = Pid, ParentPid = 0, How = "spawn" });
        fake.Registers.Rip = Code;
        writer.Registers(Pid, Tid, fake.Registers);
        fake.Map(Data, Data + 0x2000, RegionProtection.Read | RegionProtection.Write);
        for (int step = 1; step <= 8; step++)
        {
            int s = step;
            fake.Run(Code + (ulong)step, Nop, effects: () => at(fake, s));
        }
        writer.Close(StopReason.Exited, "exit code 0");
        return path;
    }

    [Fact]
    public void A_page_first_read_at_a_later_step_is_known_at_every_step_since_it_was_mapped()
    {
        using var dir = new TempDir();
        var page = Page(3);
        string path = Trace(dir, (f, step) => { if (step == 5) f.Snapshot(Data, page, "read"); });
        using var session = ReplaySession.Open(path);
        for (long step = 0; step <= 8; step++)
        {
            var m = session.ReadMemory(step, Pid, Data + 0x10, 16);
            Assert.All(m.Known, Assert.True);
            Assert.Equal(page.AsSpan(0x10, 16).ToArray(), m.Bytes);
            // Steps 0..4 know it from the snapshot at step 5 (memory before step 5 ran); 5 on directly.
            Assert.All(m.Later, later => Assert.Equal(step < 5, later));
        }
    }

    [Fact]
    public void A_write_map_or_later_process_before_the_observation_leaves_earlier_bytes_unknown()
    {
        using var dir = new TempDir();
        var page = Page(9);
        // A write at step 3 without its old value hides what was there before.
        string written = Trace(dir, (f, step) =>
        {
            if (step == 3) f.Write(Data + 0x10, [1, 2, 3, 4]);
            if (step == 5) f.Snapshot(Data, page, "read");
        }, "written.etrace");
        using (var session = ReplaySession.Open(written))
        {
            var m = session.ReadMemory(1, Pid, Data + 0x10, 8);
            Assert.Equal([false, false, false, false, true, true, true, true], m.Known);
            Assert.Equal(page.AsSpan(0x14, 4).ToArray(), m.Bytes[4..]);
            Assert.Equal([1, 2, 3, 4], session.ReadMemory(3, Pid, Data + 0x10, 4).Bytes);
        }
        // With its old value, the write tells what was there.
        string withOld = Trace(dir, (f, step) =>
        {
            if (step == 3) f.Write(Data + 0x10, [1, 2, 3, 4], old: [9, 8, 7, 6]);
        }, "old.etrace");
        using (var session = ReplaySession.Open(withOld))
        {
            var m = session.ReadMemory(2, Pid, Data + 0x10, 4);
            Assert.All(m.Known, Assert.True);
            Assert.Equal([9, 8, 7, 6], m.Bytes);
            Assert.False(session.ReadMemory(2, Pid, Data + 0x14, 1).Known[0]);
        }
        // A new mapping at step 3: what the snapshot at 5 shows is the new mapping's.
        string remapped = Trace(dir, (f, step) =>
        {
            if (step == 3) f.Map(Data, Data + 0x1000, RegionProtection.Read);
            if (step == 5) f.Snapshot(Data, page, "read");
        }, "remapped.etrace");
        using (var session = ReplaySession.Open(remapped))
        {
            Assert.DoesNotContain(true, session.ReadMemory(2, Pid, Data, 16).Known);
            Assert.All(session.ReadMemory(3, Pid, Data, 16).Known, Assert.True);
        }
        // The pid exits and is reused by a new process at step 4: its snapshot says nothing of the old one.
        string reused = Trace(dir, (f, step) =>
        {
            if (step == 3) f.Writer.Write(new ProcessExitEvent { Pid = Pid, Tid = 0, ExitCode = 0 });
            if (step == 4) f.Writer.Write(new ProcessStartEvent { Pid = Pid, Tid = 0, ParentPid = 1, How = "spawn" });
            if (step == 5) f.Snapshot(Data, page, "read");
        }, "reused.etrace");
        using (var session = ReplaySession.Open(reused))
        {
            Assert.DoesNotContain(true, session.ReadMemory(2, Pid, Data, 16).Known);
            Assert.All(session.ReadMemory(4, Pid, Data, 16).Known, Assert.True);
        }
    }

    /// <summary>A load of [rbx] at step 4, with the recorder's snapshot of the page logged right after it.</summary>
    private static void WriteLoadTrace(string path, byte[] page)
    {
        using var writer = TraceWriter.Create(path, FakeRecording.Header("/bin/fake"));
        var fake = new FakeRecording(writer, Pid, Tid);
        writer.Write(new ProcessStartEvent { Pid = Pid, ParentPid = 0, How = "spawn" });
        fake.Registers.Rip = Code;
        fake.Set(Register.Rbx, Data + 0x120).Set(Register.Cs, 0x33);
        writer.Registers(Pid, Tid, fake.Registers);
        fake.Map(Data, Data + 0x2000, RegionProtection.Read | RegionProtection.Write);
        for (int step = 1; step <= 3; step++) fake.Run(Code + (ulong)step, Nop);
        fake.Run(Code + 0x10, LoadRbx, effects: () =>
        {
            fake.Snapshot(Data, page, "read");
            fake.Set(Register.Rax, BitConverter.ToUInt64(page, 0x120));
        });
        // The program then overwrites what it read: the read value stays the one before.
        fake.Run(Code + 0x20, [0x48, 0x89, 0x0b], effects: () => fake.Write(Data + 0x120, new byte[8])); // mov [rbx], rcx
        fake.Run(Code + 0x30, LoadRbx);
        writer.Close(StopReason.Exited, "exit code 0");
    }

    [Fact]
    public void Reads_at_a_step_name_the_operand_and_the_value_as_the_step_began()
    {
        using var dir = new TempDir();
        var page = Page(1);
        string path = dir.File("load.etrace");
        WriteLoadTrace(path, page);
        using var session = ReplaySession.Open(path);
        var reads = session.ReadsAt(4)!;
        Assert.Equal(Code + 0x10, reads.Rip);
        var read = Assert.Single(reads.Reads);
        Assert.Equal(Data + 0x120, read.Address);
        Assert.Equal(8, read.Size);
        Assert.All(read.Value.Known, Assert.True);
        Assert.Equal(page.AsSpan(0x120, 8).ToArray(), read.Value.Bytes);
        Assert.Empty(session.ReadsAt(3)!.Reads); // a nop reads nothing
        Assert.Empty(session.ReadsAt(5)!.Reads); // a store reads nothing
        Assert.Equal(new byte[8], Assert.Single(session.ReadsAt(6)!.Reads).Value.Bytes);
    }

    [Fact]
    public void The_memory_reads_table_holds_every_read_with_its_value()
    {
        var page = Page(5);
        using var x = new Exported(p => WriteLoadTrace(p, page));
        var rows = x.Rows("SELECT step, rip, address, size, value FROM memory_reads ORDER BY step");
        Assert.Equal(2, rows.Count);
        Assert.Equal(4L, rows[0][0]);
        Assert.Equal(Code + 0x10, Convert.ToUInt64(rows[0][1]));
        Assert.Equal(Data + 0x120, Convert.ToUInt64(rows[0][2]));
        Assert.Equal(8, Convert.ToInt32(rows[0][3]));
        Assert.Equal(page.AsSpan(0x120, 8).ToArray(), (byte[])rows[0][4]!);
        Assert.Equal(6L, rows[1][0]);
        Assert.Equal(new byte[8], (byte[])rows[1][4]!);
        // "What value did step 4 read at this address?"
        var one = x.Rows($"SELECT value FROM memory_reads WHERE step = 4 AND {Data + 0x123} >= address AND {Data + 0x123} < address + size");
        Assert.Equal(page.AsSpan(0x120, 8).ToArray(), (byte[])Assert.Single(one)[0]!);
    }
}
