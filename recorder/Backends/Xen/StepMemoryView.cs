namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>
/// The guest memory a step frame carries, as the agent read it while the vCPU waited before the
/// instruction: whole pages the recorder had not had (pages) and the bytes of each read operand
/// (reads). What <see cref="ReadCheck"/> compares with the trace; everything else reads as
/// unreadable, so the check leaves it alone.
/// </summary>
internal sealed class StepMemoryView : ITargetMemory
{
    public AgentFrame Frame { get; set; } = new();

    public int Read(ulong address, Span<byte> into)
    {
        var f = Frame;
        int done = 0;
        while (done < into.Length)
        {
            ulong at = address + (ulong)done;
            int n = Copy(at, into[done..], f.ReadPageAt, f.ReadPages, f.ReadPageLength, Math.Min(f.ReadPageCount, f.ReadPageAtCount));
            if (n == 0) n = Copy(at, into[done..], f.ReadAt, f.ReadBytes, f.ReadLength, Math.Min(f.ReadCount, f.ReadAtCount));
            if (n == 0) break;
            done += n;
        }
        return done;
    }

    /// <summary>Copies from the first piece holding <paramref name="at"/>; the bytes copied, 0 if none holds it.</summary>
    private static int Copy(ulong at, Span<byte> into, ulong[] starts, byte[][] bytes, int[] lengths, int count)
    {
        for (int i = 0; i < count; i++)
        {
            ulong start = starts[i];
            if (at < start || at - start >= (ulong)lengths[i]) continue;
            int offset = (int)(at - start);
            int n = Math.Min(into.Length, lengths[i] - offset);
            bytes[i].AsSpan(offset, n).CopyTo(into);
            return n;
        }
        return 0;
    }
}
