using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ether.Replay.Formats.Instructions;
using Ether.Replay.Recorder.Instructions;
using Iced.Intel;

namespace Ether.Replay.Recorder.Recording;

/// <summary>One decoded instruction as it sits in the target's memory at <see cref="Rip"/>.</summary>
public struct CodeEntry
{
    [InlineArray(16)]
    private struct Bytes16 { private byte _b0; }

    /// <summary>Decoded with IP = rip, so RIP-relative operands and branch targets are absolute.
    /// A field, so callers can pass it by <c>in</c> without a copy.</summary>
    public Instruction Instruction;

    private Bytes16 _bytes;

    /// <summary>16, 32 or 64: the code-segment size it was decoded for.</summary>
    public int Bitness { readonly get; internal set; }

    public readonly ulong Rip => Instruction.IP;
    public readonly int Length => Instruction.Length;

    /// <summary>False when the bytes at rip could not be read or do not decode (the step will fault).</summary>
    public readonly bool IsValid => !Instruction.IsInvalid;

    /// <summary>
    /// False when the instruction never writes memory whatever the registers hold (most don't):
    /// the step loop can then skip <see cref="MemoryOperands.ComputeWrites(in Iced.Intel.Instruction, in Formats.Model.RegisterFile, Span{MemoryRange})"/>.
    /// </summary>
    public bool MayWriteMemory { readonly get; internal set; }

    /// <summary>False when the instruction never reads memory (besides its own bytes): the step loop
    /// then skips <see cref="MemoryOperands.ComputeReads(in Iced.Intel.Instruction, in Formats.Model.RegisterFile, Span{MemoryRange})"/>.</summary>
    public bool MayReadMemory { readonly get; internal set; }

    /// <summary>The instruction's bytes (empty when not <see cref="IsValid"/>).</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Bytes => ((ReadOnlySpan<byte>)_bytes)[..Length];

    internal void SetBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(_bytes);
}

/// <summary>
/// The decoded instructions of one address space (process), keyed by rip, so each step does a
/// lookup instead of a memory read and a decode. Entries are dropped when memory under them changes
/// — the caller reports every write (by an instruction or by the kernel, e.g. <c>read</c> into a
/// code page) and every unmap/remap through <see cref="Invalidate"/> — so self-modifying and
/// unpacked code always shows the bytes that actually ran.
///
/// Invalidation is exact: a write drops only the entries whose bytes it overlaps, found through a
/// per-page index; a decrypt loop that writes data beside its own code keeps its entries.
///
/// Threads that share the address space (CLONE_VM) share one cache; a forked child gets a
/// <see cref="Fork"/>; exec calls <see cref="Clear"/>. Memory another process changes behind our back
/// (a MAP_SHARED mapping written by an untraced process) is not seen. Not thread-safe.
/// </summary>
public sealed class CodeCache
{
    public const int PageShift = 12;

    /// <summary>Longest x86 instruction.</summary>
    private const int MaxInstructionLength = 15;

    private readonly ITargetMemory _memory;
    private readonly int _maxEntries;
    private readonly Dictionary<ulong, CodeEntry> _entries;
    /// <summary>Page → rips of the cached entries with a byte in that page (each rip once per page).</summary>
    private readonly Dictionary<ulong, List<ulong>> _pages;
    private readonly List<ulong> _scratchPages = [];
    private readonly ReusableReader _reader = new();
    private readonly Decoder _decoder16, _decoder32, _decoder64;
    private readonly MemoryOperands _accessProbe = HostCpu.NewOperands();
    private CodeEntry _uncached;
    /// <summary>The last page <see cref="Invalidate"/> found without code: most writes hit the stack again and again.</summary>
    private ulong _lastPageWithoutCode = ulong.MaxValue;

    /// <param name="memory">Where to read instructions the cache does not hold yet.</param>
    /// <param name="maxEntries">Bound on memory: when reached, the cache starts over (each entry ~100 bytes).</param>
    public CodeCache(ITargetMemory memory, int maxEntries = 1 << 20)
        : this(memory, maxEntries, new Dictionary<ulong, CodeEntry>(), new Dictionary<ulong, List<ulong>>())
    {
    }

    private CodeCache(ITargetMemory memory, int maxEntries, Dictionary<ulong, CodeEntry> entries, Dictionary<ulong, List<ulong>> pages)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _memory = memory;
        _maxEntries = maxEntries;
        _entries = entries;
        _pages = pages;
        _decoder16 = Decoder.Create(16, _reader);
        _decoder32 = Decoder.Create(32, _reader);
        _decoder64 = Decoder.Create(64, _reader);
    }

    public int Count => _entries.Count;
    public long Hits { get; private set; }
    public long Misses { get; private set; }
    /// <summary>Entries dropped because memory under them changed.</summary>
    public long Invalidated { get; private set; }

    /// <summary>
    /// The instruction at <paramref name="rip"/> for a code segment of <paramref name="bitness"/>
    /// (64 for ordinary Linux processes, 32 for compat-mode code). On a miss it reads and decodes;
    /// an entry of another bitness at the same rip is replaced (code that switches modes).
    /// The reference stays valid until the next call to <see cref="Get"/>.
    /// </summary>
    public ref readonly CodeEntry Get(ulong rip, int bitness)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_entries, rip);
        if (!Unsafe.IsNullRef(ref entry) && entry.Bitness == bitness)
        {
            Hits++;
            return ref entry;
        }
        return ref Miss(rip, bitness);
    }

    private ref CodeEntry Miss(ulong rip, int bitness)
    {
        Misses++;
        var decoder = bitness switch
        {
            64 => _decoder64,
            32 => _decoder32,
            16 => _decoder16,
            _ => throw new ArgumentOutOfRangeException(nameof(bitness), bitness, "16, 32 or 64"),
        };
        if (_entries.TryGetValue(rip, out var stale)) Remove(rip, stale.Length, skipPage: ulong.MaxValue);

        _reader.Reset(_memory.Read(rip, _reader.Buffer.AsSpan(0, MaxInstructionLength)));
        decoder.IP = rip;
        decoder.Decode(out _uncached.Instruction);
        _uncached.Bitness = bitness;
        if (_uncached.Instruction.IsInvalid)
            return ref _uncached; // unreadable or undecodable: the step will fault; nothing to keep
        _uncached.SetBytes(_reader.Buffer.AsSpan(0, _uncached.Length));
        _uncached.MayWriteMemory = _accessProbe.MayWrite(_uncached.Instruction);
        _uncached.MayReadMemory = _accessProbe.MayRead(_uncached.Instruction);

        if (_entries.Count >= _maxEntries) Clear();
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, rip, out _);
        slot = _uncached;
        ulong first = rip >> PageShift, last = (rip + (ulong)slot.Length - 1) >> PageShift;
        Link(first, rip);
        if (last != first) Link(last, rip);
        return ref slot;
    }

    /// <summary>
    /// Memory in [address, address+size) changed or was (un)mapped: drop every entry with a byte
    /// there. Cheap when no code is near: one hash lookup per page for small writes, a walk of the
    /// code pages for huge ranges (a 1 MB read buffer, an munmap).
    /// </summary>
    public void Invalidate(ulong address, long size)
    {
        if (size <= 0 || _pages.Count == 0) return;
        ulong end = address + (ulong)size;
        if (end < address) end = ulong.MaxValue; // wrapped: clamp to the top of the address space
        ulong first = address >> PageShift, last = (end - 1) >> PageShift;
        if (first == last && first == _lastPageWithoutCode) return;

        if (last - first < (ulong)_pages.Count)
        {
            for (ulong page = first; ; page++)
            {
                if (_pages.TryGetValue(page, out var rips)) InvalidatePage(page, rips, address, end);
                else _lastPageWithoutCode = page;
                if (page == last) break;
            }
            return;
        }
        _scratchPages.Clear();
        foreach (var page in _pages.Keys)
            if (page >= first && page <= last) _scratchPages.Add(page);
        foreach (var page in _scratchPages)
            if (_pages.TryGetValue(page, out var rips)) InvalidatePage(page, rips, address, end);
    }

    private void InvalidatePage(ulong page, List<ulong> rips, ulong address, ulong end)
    {
        // Backwards, so swap-removal only moves elements already visited.
        for (int i = rips.Count - 1; i >= 0; i--)
        {
            ulong rip = rips[i];
            int length = _entries[rip].Length;
            if (rip >= end || rip + (ulong)length <= address) continue;
            rips[i] = rips[^1];
            rips.RemoveAt(rips.Count - 1);
            Remove(rip, length, skipPage: page);
            Invalidated++;
        }
        if (rips.Count == 0) _pages.Remove(page);
    }

    /// <summary>Drops an entry and its page links, except the link in <paramref name="skipPage"/> (the caller's).</summary>
    private void Remove(ulong rip, int length, ulong skipPage)
    {
        _entries.Remove(rip);
        ulong first = rip >> PageShift, last = (rip + (ulong)length - 1) >> PageShift;
        if (first != skipPage) Unlink(first, rip);
        if (last != first && last != skipPage) Unlink(last, rip);
    }

    private void Link(ulong page, ulong rip)
    {
        if (page == _lastPageWithoutCode) _lastPageWithoutCode = ulong.MaxValue;
        ref var rips = ref CollectionsMarshal.GetValueRefOrAddDefault(_pages, page, out _);
        (rips ??= []).Add(rip);
    }

    private void Unlink(ulong page, ulong rip)
    {
        var rips = _pages[page];
        int i = rips.IndexOf(rip);
        rips[i] = rips[^1];
        rips.RemoveAt(rips.Count - 1);
        if (rips.Count == 0) _pages.Remove(page);
    }

    /// <summary>Forgets everything (exec replaced the address space, or the size bound was hit).</summary>
    public void Clear()
    {
        _entries.Clear();
        _pages.Clear();
    }

    /// <summary>
    /// A copy for a forked child: same code at the same addresses until either side writes.
    /// Writes in one process no longer reach the other's cache.
    /// </summary>
    public CodeCache Fork(ITargetMemory childMemory)
    {
        var pages = new Dictionary<ulong, List<ulong>>(_pages.Count);
        foreach (var (page, rips) in _pages) pages[page] = [.. rips];
        return new CodeCache(childMemory, _maxEntries, new Dictionary<ulong, CodeEntry>(_entries), pages);
    }

    /// <summary>Hands the decoder the bytes of one read, again and again, without allocating.</summary>
    private sealed class ReusableReader : CodeReader
    {
        public readonly byte[] Buffer = new byte[16];
        private int _length, _position;

        public void Reset(int length)
        {
            _length = length;
            _position = 0;
        }

        public override int ReadByte() => _position < _length ? Buffer[_position++] : -1;
    }
}
