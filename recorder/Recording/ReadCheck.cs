using Ether.Replay.Formats.Instructions;
using Iced.Intel;

namespace Ether.Replay.Recorder.Recording;

/// <summary>
/// Before a step reads memory, makes sure the trace holds what it is about to read: computes the
/// instruction's read ranges (<see cref="MemoryOperands"/>, as the replay does), reads those bytes from
/// the target as it is now and compares them with the process's <see cref="ReadShadow"/>. A page the
/// trace has no bytes for gets a snapshot (reason <c>read</c>); a page whose bytes differ from what the
/// trace shows gets a fresh one (reason <c>changed</c>). The snapshots go after the step's instruction
/// event (memory as the step begins). Bytes the target cannot give (a fault is coming) are left alone.
///
/// One check for every backend: the ptrace backend reads the live process (process_vm_readv); the Xen
/// backend reads what the agent put in the step frame (the operand bytes, and a page the first time it
/// was read). When the memory gives the read bytes but not their whole page (the agent sent the page
/// earlier and the bytes changed since), the snapshot holds just those bytes, and the shadow takes them.
///
/// Allocates nothing unless it takes a snapshot.
/// </summary>
internal sealed class ReadCheck(MemoryOperands operands)
{
    public const string FirstRead = "read";
    public const string ChangedOutside = "changed";

    private readonly MemoryRange[] _ranges = new MemoryRange[MemoryOperands.MaxRanges];
    private byte[] _live = new byte[ReadShadow.PageSize];

    /// <summary>Snapshots taken because the trace had no bytes, and because its bytes had changed.</summary>
    public long FirstReads { get; private set; }
    public long Changes { get; private set; }

    /// <summary>Checks what <paramref name="insn"/> is about to read with <paramref name="before"/> in the
    /// memory of <paramref name="pid"/>; adds the snapshots it needs to <paramref name="snapshots"/>.</summary>
    public void BeforeStep(in Instruction insn, in RegisterFile before, ITargetMemory memory, ReadShadow shadow,
        int pid, int tid, List<RegionSnapshotEvent> snapshots)
    {
        int n = operands.ComputeReads(insn, before, _ranges);
        // A gather's lanes need its vector index: not checked (rare), n is Unresolved.
        for (int k = 0; k < n; k++)
        {
            var range = _ranges[k];
            if (range.Size > _live.Length) _live = new byte[Math.Max(range.Size, _live.Length * 2)];
            var live = _live.AsSpan(0, range.Size);
            int got = memory.Read(range.Address, live);
            // Page by page over what the target could give.
            int done = 0;
            while (done < got)
            {
                ulong at = range.Address + (ulong)done;
                ulong page = at >> ReadShadow.PageShift;
                int offset = (int)(at & (ReadShadow.PageSize - 1));
                int length = Math.Min(ReadShadow.PageSize - offset, got - done);
                var copy = shadow.Find(page);
                var piece = live.Slice(done, length);
                if (copy == null)
                {
                    Snapshot(page, at, piece, FirstRead, memory, shadow, pid, tid, snapshots);
                    FirstReads++;
                }
                else if (!piece.SequenceEqual(copy.AsSpan(offset, length)))
                {
                    Snapshot(page, at, piece, ChangedOutside, memory, shadow, pid, tid, snapshots);
                    Changes++;
                }
                done += length;
            }
        }
    }

    /// <summary>The whole page if the memory gives it, else the bytes read at <paramref name="at"/>.</summary>
    private static void Snapshot(ulong page, ulong at, ReadOnlySpan<byte> piece, string reason, ITargetMemory memory,
        ReadShadow shadow, int pid, int tid, List<RegionSnapshotEvent> snapshots)
    {
        ulong address = page << ReadShadow.PageShift;
        var bytes = new byte[ReadShadow.PageSize];
        if (memory.Read(address, bytes) == bytes.Length)
        {
            shadow.Observe(address, bytes);
        }
        else
        {
            address = at;
            bytes = piece.ToArray();
            shadow.Write(at, bytes, bytes.Length); // a page the shadow holds takes them; else it stays unknown
        }
        snapshots.Add(new RegionSnapshotEvent { Pid = pid, Tid = tid, Address = address, Reason = reason, Bytes = bytes });
    }
}
