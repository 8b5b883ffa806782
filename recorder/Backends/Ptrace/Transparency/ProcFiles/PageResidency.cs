using System.Buffers.Binary;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>Which pages of a traced process are in memory, from /proc/&lt;pid&gt;/pagemap (one 64-bit entry per page; bit 63 = present).</summary>
internal static class PageResidency
{
    private const int PageShift = 12;

    /// <summary>Pages of [start, end) present in memory; -1 if pagemap cannot be read.</summary>
    public static long Resident(int pid, ulong start, ulong end)
    {
        try
        {
            using var f = new FileStream($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            var buffer = new byte[8 * 512];
            long present = 0;
            for (ulong page = start >> PageShift; page < end >> PageShift;)
            {
                int n = (int)Math.Min(512UL, (end >> PageShift) - page);
                f.Seek((long)(page * 8), SeekOrigin.Begin);
                f.ReadExactly(buffer, 0, n * 8);
                for (int i = 0; i < n; i++)
                    if ((BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(i * 8)) & (1UL << 63)) != 0) present++;
                page += (ulong)n;
            }
            return present;
        }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }
}
