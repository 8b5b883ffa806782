using System.Buffers.Binary;
using System.Text;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>
/// A fake of the traced process's memory for decoder tests: byte ranges placed at chosen addresses,
/// everything else unreadable. Reads stop at the first unmapped byte, like process_vm_readv.
/// </summary>
internal sealed class FakeTargetMemory : ITargetMemory
{
    /// <summary>The largest single read asked of this memory, to check that decoding stays bounded.</summary>
    public int LargestRead { get; private set; }

    /// <summary>Total bytes asked for over all reads.</summary>
    public long BytesRequested { get; private set; }

    public FakeTargetMemory Put(ulong address, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var page = Page(address);
            var offset = (int)(address % PageSize);
            var take = Math.Min(bytes.Length, (int)PageSize - offset);
            bytes[..take].CopyTo(page.Data.AsSpan(offset));
            page.Mapped.AsSpan(offset, take).Fill(true);
            bytes = bytes[take..];
            address += (ulong)take;
        }
        return this;
    }

    public FakeTargetMemory PutString(ulong address, string text, bool terminate = true) =>
        Put(address, terminate ? Encoding.Latin1.GetBytes(text + "\0") : Encoding.Latin1.GetBytes(text));

    public FakeTargetMemory PutU16(ulong address, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return Put(address, b);
    }

    public FakeTargetMemory PutU32(ulong address, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Put(address, b);
    }

    public FakeTargetMemory PutU64(ulong address, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return Put(address, b);
    }

    /// <summary>Pointers of the given size (8 or 4 bytes) one after another.</summary>
    public FakeTargetMemory PutWords(ulong address, int wordSize, params ulong[] words)
    {
        for (var i = 0; i < words.Length; i++)
        {
            if (wordSize == 8)
                PutU64(address + (ulong)(i * 8), words[i]);
            else
                PutU32(address + (ulong)(i * 4), (uint)words[i]);
        }
        return this;
    }

    /// <summary>A zeroed, readable range (a struct the test fills field by field).</summary>
    public FakeTargetMemory Zero(ulong address, int length) => Put(address, new byte[length]);

    public int Read(ulong address, Span<byte> into)
    {
        LargestRead = Math.Max(LargestRead, into.Length);
        BytesRequested += into.Length;
        for (var done = 0; done < into.Length; done++)
        {
            var at = address + (ulong)done;
            if (at < address || !_pages.TryGetValue(at / PageSize, out var page) || !page.Mapped[at % PageSize])
                return done;
            into[done] = page.Data[at % PageSize];
        }
        return into.Length;
    }

    private const ulong PageSize = 4096;
    private readonly Dictionary<ulong, (byte[] Data, bool[] Mapped)> _pages = new();

    private (byte[] Data, bool[] Mapped) Page(ulong address)
    {
        if (!_pages.TryGetValue(address / PageSize, out var page))
        {
            page = (new byte[PageSize], new bool[PageSize]);
            _pages[address / PageSize] = page;
        }
        return page;
    }
}
