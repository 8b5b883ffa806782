using Ether.Replay.Analyzer.Replay;

namespace Ether.Replay.Analyzer.Export;

/// <summary>What <see cref="TenetExporter"/> exports and how it lines addresses up with a disassembler.</summary>
public sealed record TenetOptions
{
    /// <summary>The thread to export (Tenet traces are one thread's).</summary>
    public required int Tid { get; init; }
    /// <summary>Its process, when the tid alone is ambiguous (tids are reused).</summary>
    public int? Pid { get; init; }
    /// <summary>First and last step to export (Tenet recommends at most ~10 M instructions).</summary>
    public long FromStep { get; init; } = 1;
    public long ToStep { get; init; } = long.MaxValue;
    /// <summary>How the image's addresses are moved (<see cref="TenetImage"/>).</summary>
    public TenetRebase Rebase { get; init; } = TenetRebase.LinkBase;
    /// <summary>With <see cref="TenetRebase.Address"/>: where the disassembler shows the image.</summary>
    public ulong ImageBase { get; init; }
    /// <summary>The image to line up (a path or file name in the memory map); null: the process's executable.</summary>
    public string? Image { get; init; }
}

/// <summary>How addresses in the exported image are moved.</summary>
public enum TenetRebase
{
    /// <summary>To the image's link-time base read from its ELF file (what IDA shows when it opens the file as is).</summary>
    LinkBase,
    /// <summary>To <see cref="TenetOptions.ImageBase"/>.</summary>
    Address,
    /// <summary>Runtime addresses as recorded.</summary>
    None,
}

/// <summary>What an export wrote.</summary>
public sealed record TenetResult(int Pid, int Tid, long Lines, long FirstStep, long LastStep, TenetImage? Image, string? EndNote);

/// <summary>
/// Writes one thread of a trace as a Tenet text trace (gaasedelen/tenet's documented format, see
/// <see cref="TenetLine"/>): a line per executed instruction, carrying the registers before it, its
/// rip, and the memory the previous instruction of the thread read (values from the trace's
/// snapshots and writes, through <see cref="StepReads"/>) and wrote (its writes and the kernel's on its
/// behalf, e.g. read(2) buffers). Tenet's reader counts a line's accesses into the state at that line,
/// which is exactly the machine before the line's instruction runs.
///
/// Addresses inside the chosen image — rip, register values, access addresses — are moved by the
/// image's slide so the trace lines up with the binary opened in a disassembler; memory contents are
/// left as they were (a pointer stored in memory keeps its runtime value).
///
/// One address space: the export stops at an exec of the thread's process (a new image). The last
/// instruction's accesses get a final line when the trace shows where the thread went next.
/// </summary>
public static class TenetExporter
{
    public static TenetResult Export(string tracePath, TextWriter output, TenetOptions options, Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        using var session = ReplaySession.Open(tracePath);
        int pid = options.Pid ?? FindPid(session, options.Tid, options.FromStep)
            ?? throw new InvalidDataException($"thread {options.Tid} runs no instruction in the trace{(options.FromStep > 1 ? $" from step {options.FromStep}" : "")}");
        long firstStep = FirstStep(session, pid, options.Tid, options.FromStep)
            ?? throw new InvalidDataException($"thread {options.Tid} of pid {pid} runs no instruction in the trace{(options.FromStep > 1 ? $" from step {options.FromStep}" : "")}");
        var image = options.Rebase == TenetRebase.None && options.Image == null ? null : TenetImage.Find(session, pid, firstStep, options);
        Func<ulong, ulong> rebase = image == null ? v => v : image.Rebase;

        using var reader = TraceReader.Open(tracePath);
        var reads = new StepReads(StepReads.XsaveSizeOf(reader.Header), Disassembly.Disassembler.BitnessOf(reader.Header.Architecture));
        var line = new TenetLine();
        var registers = new RegisterFile();
        bool alive = false, ran = false, ripKnown = false, done = false, exited = false;
        long lines = 0, lastStep = 0;
        string? endNote = null;
        var chunk = new DecodedChunk();

        void Resolved()
        {
            // The previous instruction's reads, now that the snapshots logged with it are in memory.
            if (!reads.Pending) return;
            reads.Resolve();
            for (int k = 0; k < reads.Count; k++)
                KnownRuns(line, write: false, reads.Range(k).Address, reads.Value(k), reads.KnownBytes(k), rebase);
        }

        // From the trace's start: memory is rebuilt from snapshots that may be long before the first step.
        for (int c = 0; c < reader.Chunks.Count && !done; c++)
        {
            cancel.ThrowIfCancellationRequested();
            reader.ReadChunk(c, chunk);
            var order = new LogOrder(chunk);
            while (!done && order.MoveNext(out var kind, out int index))
            {
                switch (kind)
                {
                    case LogEntry.Instruction:
                    {
                        Resolved();
                        int t = chunk.InstructionThread[index];
                        long step = chunk.InstructionStep[index];
                        bool ours = chunk.ThreadPid[t] == pid && chunk.ThreadTid[t] == options.Tid;
                        if (ours && step > options.ToStep)
                        {
                            // Where the thread went after the last exported instruction: one more line, then stop.
                            if (ran) { line.Write(output, registers, chunk.InstructionRip[index], rebase); lines++; }
                            endNote = $"stopped before step {step:N0} (--to-step {options.ToStep:N0})";
                            done = true;
                            break;
                        }
                        if (ours && step >= firstStep && alive)
                        {
                            line.Write(output, registers, chunk.InstructionRip[index], rebase);
                            lines++;
                            lastStep = step;
                            ran = true;
                            ripKnown = false;
                        }
                        if (!ours || !alive) break;
                        if (step >= firstStep) reads.OnInstruction(chunk, index, pid, options.Tid, registers);
                        registers.Rip = chunk.InstructionRip[index] + chunk.InstructionLength[index];
                        break;
                    }
                    case LogEntry.MemoryWrite:
                    {
                        Resolved();
                        int t = chunk.WriteThread[index];
                        var value = chunk.WriteValue(index);
                        reads.Memory.Write(chunk.ThreadPid[t], chunk.WriteAddress[index], value, chunk.WriteSize[index]);
                        if (ran && chunk.ThreadPid[t] == pid && chunk.ThreadTid[t] == options.Tid)
                            line.Access(write: true, rebase(chunk.WriteAddress[index]), value);
                        break;
                    }
                    case LogEntry.RegisterChange:
                    {
                        Resolved();
                        int t = chunk.RegisterThread[index];
                        if (chunk.ThreadPid[t] != pid || chunk.ThreadTid[t] != options.Tid) break;
                        uint mask = chunk.RegisterMask[index];
                        var values = chunk.RegisterChangeValues(index);
                        int k = 0;
                        for (uint m = mask; m != 0; m &= m - 1)
                        {
                            int slot = System.Numerics.BitOperations.TrailingZeroCount(m);
                            if (slot < Formats.Model.Registers.Count) registers[slot] = values[k];
                            k++;
                        }
                        if ((mask & (1u << (int)Register.Rip)) != 0) ripKnown = true;
                        break;
                    }
                    case LogEntry.Side:
                    {
                        var e = chunk.SideEvents[index];
                        if (!reads.IsPreStepSnapshot(e)) Resolved();
                        reads.OnMemoryEvent(e);
                        if (e.Pid != pid) break;
                        switch (e)
                        {
                            case KeyframeEvent k when k.Tid == options.Tid:
                                registers = k.Registers;
                                alive = true;
                                ripKnown = true;
                                break;
                            case ExecEvent when ran:
                                endNote = $"stopped at step {e.Step:N0}: pid {pid} exec'd a new image (export from step {e.Step + 1:N0} for it)";
                                done = true;
                                break;
                            case ThreadExitEvent x when x.Tid == options.Tid && ran:
                            case ProcessExitEvent when ran:
                                exited = done = true; // the thread's last instruction was its exit call: nothing follows
                                break;
                        }
                        break;
                    }
                }
            }
            progress?.Invoke(c + 1, reader.Chunks.Count);
        }
        Resolved();
        if (ran && !exited && endNote == null && ripKnown)
        {
            line.Write(output, registers, registers.Rip, rebase);
            lines++;
        }
        else if (ran && !exited && line.HasMemory && endNote == null)
        {
            endNote = "the trace ends before it shows where the thread went after its last instruction: that instruction's memory accesses are not in the export";
        }
        output.Flush();
        return new TenetResult(pid, options.Tid, lines, firstStep, lastStep, image, endNote);
    }

    /// <summary>mr entries for the runs of known bytes of a read (Tenet has no notation for an unknown byte).</summary>
    private static void KnownRuns(TenetLine line, bool write, ulong address, ReadOnlySpan<byte> value, ReadOnlySpan<bool> known, Func<ulong, ulong> rebase)
    {
        int i = 0;
        while (i < value.Length)
        {
            if (!known[i]) { i++; continue; }
            int start = i;
            while (i < value.Length && known[i]) i++;
            line.Access(write, rebase(address + (ulong)start), value[start..i]);
        }
    }

    private static int? FindPid(ReplaySession session, int tid, long from) => FirstOf(session, from, row => row.Tid == tid)?.Pid;

    private static long? FirstStep(ReplaySession session, int pid, int tid, long from) => FirstOf(session, from, row => row.Tid == tid && row.Pid == pid)?.Step;

    private static InstructionRow? FirstOf(ReplaySession session, long from, Func<InstructionRow, bool> match)
    {
        for (long step = Math.Max(1, from); step <= session.LastStep;)
        {
            var page = session.InstructionsPage(step, 4096);
            if (page.Count == 0) return null;
            foreach (var row in page)
                if (match(row)) return row;
            step = page[^1].Step + 1;
        }
        return null;
    }
}
