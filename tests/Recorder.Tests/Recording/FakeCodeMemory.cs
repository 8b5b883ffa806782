namespace Ether.Replay.Recorder.Tests.Recording;

/// <summary>
/// A fake target address space for testing the code cache: sparse 4 KiB pages of bytes, reads stop
/// at the first unmapped page (as process_vm_readv does), and reads are counted.
/// </summary>
internal sealed class FakeCodeMemory : ITargetMemory
{
    private readonly Dictionary<ulong, byte[]> _pages = [];

    public int Reads { get; private set; }

    public void Map(ulong address, int pages)
    {
        for (int i = 0; i < pages; i++) _pages[(address >> 12) + (ulong)i] = new byte[4096];
    }

    public void Unmap(ulong address) => _pages.Remove(address >> 12);

    public void Write(ulong address, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            ulong a = address + (ulong)i;
            _pages[a >> 12][a & 0xFFF] = bytes[i];
        }
    }

    public int Read(ulong address, Span<byte> into)
    {
        Reads++;
        for (int i = 0; i < into.Length; i++)
        {
            ulong a = address + (ulong)i;
            if (!_pages.TryGetValue(a >> 12, out var page)) return i;
            into[i] = page[a & 0xFFF];
        }
        return into.Length;
    }
}
