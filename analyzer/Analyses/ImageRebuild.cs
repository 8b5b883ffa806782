using System.Buffers.Binary;
using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>
/// Rebuilds a runnable ELF from an image an unpacker expanded in memory together with its own ELF
/// header (UPX and in-memory loaders do: the program headers must be there for AT_PHDR). The file is
/// the memory from the header to the end of the last PT_LOAD, as it was at the original entry point,
/// with the header fixed for a file: e_entry = the OEP, each segment's file offset = its place in
/// the dump, no section headers. A PIE's .dynamic entries that ld.so relocated in place (DT_STRTAB,
/// DT_SYMTAB, ...) are turned back into image offsets; its relocations are applied again at load
/// (they overwrite, never add), so the relocated GOT in the dump does no harm.
/// </summary>
internal static class ImageRebuild
{
    private const uint PtLoad = 1, PtDynamic = 2;
    private const int MaxImageBytes = 256 << 20;

    /// <summary>Tags whose values glibc's ld.so adds the load base to (elf/get-dynamic-info.h).</summary>
    private static readonly HashSet<ulong> RelocatedTags = [4, 3, 5, 6, 7, 17, 23, 0x6ffffff0, 0x6ffffef5];

    /// <summary>The rebuilt file, or null when no complete ELF header sits at the start of the regions leading up to the OEP.</summary>
    public static byte[]? FromMemory(ReplaySession session, int pid, long step, ulong oep, out ulong imageStart, out long known)
    {
        imageStart = 0;
        known = 0;
        var regions = session.RegionsAt(step, pid);
        int at = -1;
        for (int i = 0; i < regions.Count; i++)
            if (oep >= regions[i].Start && oep < regions[i].End) at = i;
        if (at < 0) return null;
        // Walk down the run of adjacent regions to the one that starts with an ELF header.
        for (int i = at; i >= 0 && (i == at || regions[i].End == regions[i + 1].Start); i--)
        {
            var head = session.ReadMemory(step, pid, regions[i].Start, 64);
            if (!head.Known.All(k => k) || !IsElf64(head.Bytes)) continue;
            return Build(session, pid, step, oep, regions[i].Start, head.Bytes, out imageStart, out known);
        }
        return null;
    }

    private static bool IsElf64(byte[] h) => h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F' && h[4] == 2 && h[5] == 1;

    private static byte[]? Build(ReplaySession session, int pid, long step, ulong oep, ulong header, byte[] h, out ulong imageStart, out long known)
    {
        imageStart = header;
        known = 0;
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(16));
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(32));
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(54));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(56));
        if (type is not (2 or 3) || phentsize != 56 || phnum is 0 or > 64 || phoff > 4096) return null;
        var ph = session.ReadMemory(step, pid, header + phoff, phnum * 56);
        if (!ph.Known.All(k => k)) return null;
        ulong firstVaddr = ulong.MaxValue, lastEnd = 0;
        for (int i = 0; i < phnum; i++)
        {
            var p = ph.Bytes.AsSpan(i * 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(p) != PtLoad) continue;
            ulong vaddr = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]), memsz = BinaryPrimitives.ReadUInt64LittleEndian(p[40..]);
            firstVaddr = Math.Min(firstVaddr, vaddr & ~0xfffUL);
            lastEnd = Math.Max(lastEnd, vaddr + memsz);
        }
        if (firstVaddr == ulong.MaxValue || lastEnd <= firstVaddr || lastEnd - firstVaddr > MaxImageBytes) return null;
        ulong loadBase = header - firstVaddr;
        if (type == 2 && loadBase != 0) return null; // an ET_EXEC must sit where its headers say
        int length = (int)(((lastEnd - firstVaddr) + 0xfff) & ~0xfffUL);
        var memory = session.ReadMemory(step, pid, header, length); // unseen bytes: zeros (untouched anonymous memory, .bss)
        known = memory.Known.Count(k => k);
        var file = memory.Bytes;
        var f = file.AsSpan();

        BinaryPrimitives.WriteUInt64LittleEndian(f[24..], oep - loadBase);           // e_entry
        BinaryPrimitives.WriteUInt64LittleEndian(f[40..], 0);                       // e_shoff
        BinaryPrimitives.WriteUInt16LittleEndian(f[60..], 0);                       // e_shnum
        BinaryPrimitives.WriteUInt16LittleEndian(f[62..], 0);                       // e_shstrndx
        ulong dynamic = 0, dynamicSize = 0;
        for (int i = 0; i < phnum; i++)
        {
            var p = f[(int)(phoff + (ulong)i * 56)..];
            uint ptype = BinaryPrimitives.ReadUInt32LittleEndian(p);
            ulong vaddr = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]);
            ulong filesz = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
            ulong memsz = BinaryPrimitives.ReadUInt64LittleEndian(p[40..]);
            if (ptype == 0 || (filesz == 0 && memsz == 0)) continue;                 // PT_NULL, PT_GNU_STACK
            ulong offset = vaddr - firstVaddr;
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], offset);
            if (ptype == PtLoad)
                BinaryPrimitives.WriteUInt64LittleEndian(p[32..], Math.Min(memsz, (ulong)length - offset)); // the dump holds .bss too
            if (ptype == PtDynamic) (dynamic, dynamicSize) = (offset, filesz);
        }
        if (type == 3 && dynamic > 0) FixDynamic(f, dynamic, Math.Min((ulong)length, dynamic + dynamicSize), loadBase, (ulong)length);
        return file;
    }

    /// <summary>
    /// Undoes what ld.so did to .dynamic in place, and asks for eager binding: a lazy GOT slot is
    /// relocated by adding the load base to what it holds, and the dump holds the last run's
    /// addresses there; with BIND_NOW every slot is overwritten with the resolved symbol instead.
    /// </summary>
    private static void FixDynamic(Span<byte> f, ulong from, ulong to, ulong loadBase, ulong length)
    {
        const ulong DtNull = 0, DtDebug = 21, DtFlags = 30, DtFlags1 = 0x6ffffffb, DfBindNow = 8, Df1Now = 1;
        bool now = false;
        ulong debugSlot = 0;
        for (ulong d = from; d + 16 <= to; d += 16)
        {
            ulong tag = BinaryPrimitives.ReadUInt64LittleEndian(f[(int)d..]);
            if (tag == DtNull) break;
            var value = f[(int)(d + 8)..];
            ulong v = BinaryPrimitives.ReadUInt64LittleEndian(value);
            if (tag == DtDebug) { BinaryPrimitives.WriteUInt64LittleEndian(value, 0); debugSlot = d; } // that run's r_debug
            else if (tag == DtFlags) { BinaryPrimitives.WriteUInt64LittleEndian(value, v | DfBindNow); now = true; }
            else if (tag == DtFlags1) { BinaryPrimitives.WriteUInt64LittleEndian(value, v | Df1Now); now = true; }
            else if (RelocatedTags.Contains(tag) && v >= loadBase && v - loadBase < length)
                BinaryPrimitives.WriteUInt64LittleEndian(value, v - loadBase);
        }
        if (!now && debugSlot != 0)
        {
            // No flags entry to extend: DT_DEBUG's slot (only a debugger's hook) becomes DT_FLAGS = BIND_NOW.
            BinaryPrimitives.WriteUInt64LittleEndian(f[(int)debugSlot..], DtFlags);
            BinaryPrimitives.WriteUInt64LittleEndian(f[(int)(debugSlot + 8)..], DfBindNow);
        }
    }
}
