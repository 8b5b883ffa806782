using System.Buffers.Binary;

namespace Ether.Replay.Analyzer.Unpack;

/// <summary>
/// Notices ELF headers written into memory (an in-memory loader or an unpacker expanding an image
/// with its headers, as UPX does) and the entry point each announces: e_entry for ET_EXEC, base +
/// e_entry - first p_vaddr for ET_DYN. Only pages whose first written byte at offset 0 is 0x7f are
/// watched, and only their first 120 bytes (the header and the first program header).
/// </summary>
internal sealed class ElfHeaderWatch
{
    private const int PageShift = 12, Watched = 120;

    private sealed class Buffer
    {
        public readonly byte[] Bytes = new byte[Watched];
        public readonly bool[] Known = new bool[Watched];
        public int Count;
        public bool Done;
    }

    private readonly Dictionary<ulong, Buffer> _pages = new();

    /// <summary>Entry points announced by complete headers: address → (header address, step it became complete).</summary>
    public Dictionary<ulong, (ulong Header, long Step)> Entries { get; } = new();

    public void Write(ulong address, ReadOnlySpan<byte> value, long step)
    {
        if (value.Length == 0) return;
        ulong first = address >> PageShift, last = (address + (ulong)value.Length - 1) >> PageShift;
        for (ulong page = first; page <= last && page - first < 4096; page++)
        {
            ulong pageStart = page << PageShift;
            if (address + (ulong)value.Length <= pageStart || address >= pageStart + Watched) continue;
            if (!_pages.TryGetValue(page, out var b))
            {
                if (address > pageStart || value[0] != 0x7f) continue; // only a header that starts at the page
                _pages[page] = b = new Buffer();
            }
            else if (address <= pageStart && value[(int)(pageStart - address)] != 0x7f)
            {
                _pages.Remove(page); // overwritten by something else
                continue;
            }
            int from = (int)Math.Max(0, (long)pageStart - (long)address);
            for (int i = from; i < value.Length; i++)
            {
                ulong offset = address + (ulong)i - pageStart;
                if (offset >= Watched) break;
                b.Bytes[offset] = value[i];
                if (!b.Known[offset]) { b.Known[offset] = true; b.Count++; }
            }
            if (b.Count == Watched && !b.Done) Complete(pageStart, b, step);
        }
    }

    private void Complete(ulong header, Buffer b, long step)
    {
        var h = b.Bytes.AsSpan();
        if (h[0] != 0x7f || h[1] != (byte)'E' || h[2] != (byte)'L' || h[3] != (byte)'F' || h[4] != 2) return;
        b.Done = true;
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(h[16..]);
        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(h[24..]);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
        ulong address = entry;
        if (type == 3)
        {
            // ET_DYN: the header sits at the base plus the first PT_LOAD's vaddr (0 for nearly every PIE).
            ulong firstVaddr = 0;
            if (phoff == 64 && BinaryPrimitives.ReadUInt32LittleEndian(h[64..]) == 1)
                firstVaddr = BinaryPrimitives.ReadUInt64LittleEndian(h[(64 + 16)..]) & ~0xfffUL;
            address = header - firstVaddr + entry;
        }
        else if (type != 2) return;
        Entries.TryAdd(address, (header, step));
    }

    public void Forget(ulong start, ulong end)
    {
        foreach (var page in _pages.Keys.Where(k => (k << PageShift) < end && ((k + 1) << PageShift) > start).ToList())
            _pages.Remove(page);
    }

    public void Clear()
    {
        _pages.Clear();
        Entries.Clear();
    }
}
