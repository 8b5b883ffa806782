namespace Ether.Replay.Formats.Tests.Log;

/// <summary>A small deterministic trace holding every event kind, spread over many chunks.</summary>
internal static class SampleTrace
{
    public static byte[] Build(int steps = 150, int chunkSteps = 12, bool close = true)
    {
        var ms = new MemoryStream();
        var options = new TraceWriterOptions { ChunkSteps = chunkSteps, ChunkAge = TimeSpan.FromHours(1) };
        var w = new TraceWriter(ms, RoundTripTests.TestHeader, options, leaveOpen: true);
        var rng = new Random(7);
        var regs = new RegisterFile();
        TraceEvent[] sides =
        [
            new SyscallEntryEvent { Abi = "linux-x86_64", Number = 0, Name = "read", Args = [3, 0x1000, 64, 0, 0, 0], Decoded = ["3", "0x1000", "64"] },
            new SyscallExitEvent { Abi = "linux-x86_64", Number = 0, Name = "read", Return = 12, Decoded = ["3", "\"hello\"...", "64"] },
            new RegionMapEvent { Start = 0x400000, End = 0x401000, Protection = RegionProtection.Read | RegionProtection.Execute, Name = "/bin/x" },
            new RegionProtectEvent { Start = 0x400000, End = 0x401000, Protection = RegionProtection.Read },
            new RegionUnmapEvent { Start = 0x400000, End = 0x401000 },
            new FileEvent { Op = FileOps.Write, Call = "write", Fd = 3, Device = 1, Inode = 77, Path = "/memfd:x (deleted)", Length = 4, Size = 4 },
            new RegionSnapshotEvent { Address = 0x7000, Reason = "unpack", Bytes = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray() },
            new ProcessStartEvent { ParentPid = 1, How = "fork" },
            new ExecEvent { Path = "/bin/x", Argv = ["x"] },
            new ThreadStartEvent { ParentTid = 10 },
            new SignalEvent { Signo = 11, Name = "SIGSEGV", Code = 1, Address = 0xdead, Disposition = "delivered" },
            new AnnotationEvent { Key = "note", Text = "hi" },
            new ThreadExitEvent { ExitCode = 0 },
            new ProcessExitEvent { ExitCode = 3 },
        ];
        ulong rip = 0x401000;
        for (int s = 0; s < steps; s++)
        {
            int tid = s % 17 < 12 ? 10 : 11;
            var len = 1 + rng.Next(6);
            var code = new byte[len];
            rng.NextBytes(code);
            if (rng.Next(5) == 0) rip = 0x401000 + (ulong)rng.Next(64);
            if (s % 3 == 0) w.Tick();
            else w.Instruction(10, tid, rip, code);
            rip += (ulong)len;
            if (s % 2 == 0) w.MemoryWrite(10, tid, 0x7ffd0000UL + (ulong)rng.Next(256), [1, 2, 3, (byte)s]);
            regs[Register.Rax] = (ulong)s;
            regs[Register.Rsp] -= 8;
            w.Registers(10, tid, regs);
            if (s % 5 == 0)
            {
                var e = sides[(s / 5) % sides.Length];
                e.Pid = 10;
                e.Tid = tid;
                w.Write(e);
            }
        }
        if (close) w.Close(StopReason.Exited);
        else w.Flush();
        return ms.ToArray();
    }

    /// <summary>Every event of the pristine file, chunk by chunk, described for comparison.</summary>
    public static List<List<string>> EventsPerChunk(byte[] file)
    {
        using var reader = new TraceReader(new MemoryStream(file));
        var result = new List<List<string>>();
        var chunk = new DecodedChunk();
        for (int i = 0; i < reader.Chunks.Count; i++)
            result.Add(ChunkEvents.InLogOrder(reader.ReadChunk(i, chunk)).Select(EventText.Describe).ToList());
        return result;
    }
}
