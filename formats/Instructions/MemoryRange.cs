namespace Ether.Replay.Formats.Instructions;

/// <summary>
/// A span of guest virtual memory: <see cref="Size"/> bytes from <see cref="Address"/>.
/// Addresses wrap modulo 2^64 the way the CPU's address arithmetic does.
/// </summary>
public readonly record struct MemoryRange(ulong Address, int Size)
{
    /// <summary>One past the last byte (wraps at the top of the address space).</summary>
    public ulong End => Address + (ulong)Size;

    public override string ToString() => $"[{Address:x}, +{Size})";
}
