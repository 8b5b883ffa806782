using Ether.Replay.Formats.Instructions;
using Ether.Replay.Recorder.Instructions;
using Iced.Intel;

namespace Ether.Replay.Recorder.Backends.Ptrace.Pipeline;

/// <summary>
/// Before a step reads memory, makes sure the trace holds what it is about to read: computes the
/// instruction's read ranges (<see cref="MemoryOperands"/>, as the replay does), reads those bytes from
/// the live process and compares them with the process's <see cref="ReadShadow"/>. A page the trace has
/// no bytes for gets a snapshot (reason <c>read</c>); a page whose bytes differ from what the trace shows
/// gets a fresh one (reason <c>changed</c>). The snapshots go after the step's instruction event (memory
/// as the step begins). Bytes the process cannot read (a fault is coming) are left alone.
///
/// Costs one process_vm_readv per reading instruction, plus a page read the first time a page is read.
/// Allocates nothing unless it takes a snapshot.
/// </summary>
internal sealed class ReadCheck
{
    public const string FirstRead = "read";
    public const string ChangedOutside = "changed";

    private readonly MemoryOperands _operands = HostCpu.NewOperands();
    private readonly MemoryRange[] _ranges = new MemoryRange[MemoryOperands.MaxRanges];
    private byte[] _live = new byte[ReadShadow.PageSize];

    /// <summary>Pages snapshotted at their first read, and because their bytes had changed.</summary>
    public long FirstReads { get; private set; }
    public long Changes { get; private set; }

    /// <summary>The read ranges of the last <see cref="BeforeStep"/> (for the test-only step check).</summary>
    public ReadOnlySpan<MemoryRange> LastRanges => _ranges.AsSpan(0, _lastCount);
    private int _lastCount;

    /// <summary>Checks what <paramref name="insn"/> is about to read with <paramref name="before"/>; adds the
    /// snapshots it needs to <paramref name="snapshots"/>.</summary>
    public void BeforeStep(RecordedThread thread, in Instruction insn, in RegisterFile before, List<RegionSnapshotEvent> snapshots)
    {
        int n = _operands.ComputeReads(insn, before, _ranges);
        _lastCount = Math.Max(n, 0); // a gather's lanes need its vector index: not checked (rare)
        var memory = thread.Process.Memory;
        var shadow = thread.Process.Shadow;
        for (int k = 0; k < _lastCount; k++)
        {
            var range = _ranges[k];
            if (range.Size > _live.Length) _live = new byte[Math.Max(range.Size, _live.Length * 2)];
            var live = _live.AsSpan(0, range.Size);
            int got = memory.Read(range.Address, live);
            // Page by page over what the process could read.
            int done = 0;
            while (done < got)
            {
                ulong at = range.Address + (ulong)done;
                ulong page = at >> ReadShadow.PageShift;
                int offset = (int)(at & (ReadShadow.PageSize - 1));
                int length = Math.Min(ReadShadow.PageSize - offset, got - done);
                var copy = shadow.Find(page);
                if (copy == null)
                {
                    Snapshot(thread, page, FirstRead, snapshots);
                    FirstReads++;
                }
                else if (!live.Slice(done, length).SequenceEqual(copy.AsSpan(offset, length)))
                {
                    Snapshot(thread, page, ChangedOutside, snapshots);
                    Changes++;
                }
                done += length;
            }
        }
    }

    private static void Snapshot(RecordedThread thread, ulong page, string reason, List<RegionSnapshotEvent> snapshots)
    {
        ulong address = page << ReadShadow.PageShift;
        var bytes = new byte[ReadShadow.PageSize];
        if (thread.Process.Memory.Read(address, bytes) != bytes.Length) return; // the read will fault
        thread.Process.Shadow.Observe(address, bytes);
        snapshots.Add(new RegionSnapshotEvent { Pid = thread.Pid, Tid = thread.Tid, Address = address, Reason = reason, Bytes = bytes });
    }
}
