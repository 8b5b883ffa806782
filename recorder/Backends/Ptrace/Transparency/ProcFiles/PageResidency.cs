using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Ether.Replay.Recorder.Backends.Ptrace.Native;
using Microsoft.Win32.SafeHandles;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// Which pages of a traced process smaps counts as resident (Rss): pages mapped in its page tables,
/// but not the shared zero page, which a read of memory never written maps and smaps does not count
/// (its share of a cut VMA's counters went to the page the program had only read). Asked with the
/// PAGEMAP_SCAN ioctl on /proc/&lt;pid&gt;/pagemap (Linux 6.7+: present and not PFN-zero); before that
/// from pagemap's present bits (bit 63), which count zero pages too.
/// </summary>
internal static unsafe class PageResidency
{
    private const int PageShift = 12;

    /// <summary>Pages of [start, end) resident as smaps counts them; -1 if pagemap cannot be read.</summary>
    public static long Resident(int pid, ulong start, ulong end)
    {
        try
        {
            using SafeFileHandle pagemap = File.OpenHandle($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long scanned = Scan(pagemap, start, end);
            return scanned >= 0 ? scanned : Present(pagemap, start, end);
        }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }

    // ---- PAGEMAP_SCAN (include/uapi/linux/fs.h) ------------------------------------------------

    private const ulong PagemapScan = 0xC0606610; // _IOWR('f', 16, struct pm_scan_arg): 96 bytes
    private const ulong PageIsPresent = 1 << 3, PageIsPfnZero = 1 << 5;

    [StructLayout(LayoutKind.Sequential)]
    private struct ScanArg
    {
        public ulong Size, Flags, Start, End, WalkEnd, Vec, VecLength, MaxPages, CategoryInverted, CategoryMask, CategoryAnyOfMask, ReturnMask;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PageRegion
    {
        public ulong Start, End, Categories;
    }

    /// <summary>Present pages that are not the zero page, by PAGEMAP_SCAN; -1 if the kernel has no such ioctl.</summary>
    private static long Scan(SafeFileHandle pagemap, ulong start, ulong end)
    {
        const int Regions = 64;
        var regions = stackalloc PageRegion[Regions];
        long pages = 0;
        for (ulong at = start; at < end;)
        {
            var arg = new ScanArg
            {
                Size = (ulong)sizeof(ScanArg), Start = at, End = end, Vec = (ulong)regions, VecLength = Regions,
                // Matches: present, and zero-PFN inverted (i.e. not the zero page).
                CategoryInverted = PageIsPfnZero, CategoryMask = PageIsPresent | PageIsPfnZero, ReturnMask = PageIsPresent,
            };
            int n = LibC.Ioctl((int)pagemap.DangerousGetHandle(), PagemapScan, &arg);
            if (n < 0) return -1;
            for (int i = 0; i < n; i++) pages += (long)((regions[i].End - regions[i].Start) >> PageShift);
            if (arg.WalkEnd <= at) return -1; // no progress: not what the ioctl promises, use the present bits
            at = arg.WalkEnd; // the output array was full: go on from where the walk stopped
        }
        return pages;
    }

    // ---- pagemap entries (one 64-bit entry per page; bit 63 = present) --------------------------

    private static long Present(SafeFileHandle pagemap, ulong start, ulong end)
    {
        var buffer = new byte[8 * 512];
        long present = 0;
        for (ulong page = start >> PageShift; page < end >> PageShift;)
        {
            int n = (int)Math.Min(512UL, (end >> PageShift) - page);
            if (RandomAccess.Read(pagemap, buffer.AsSpan(0, n * 8), (long)(page * 8)) != n * 8) throw new IOException("short pagemap read");
            for (int i = 0; i < n; i++)
                if ((BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(i * 8)) & (1UL << 63)) != 0) present++;
            page += (ulong)n;
        }
        return present;
    }
}
