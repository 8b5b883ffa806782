using System.Runtime.CompilerServices;

namespace Ether.Replay.Formats.Model;

/// <summary>All register slots of one thread, by value (no allocation when copied or compared).</summary>
public struct RegisterFile : IEquatable<RegisterFile>
{
    [InlineArray(Registers.Count)]
    private struct Slots { private ulong _element0; }

    private Slots _slots;

    public ulong this[Register r]
    {
        readonly get => _slots[(int)r];
        set => _slots[(int)r] = value;
    }

    public ulong this[int slot]
    {
        readonly get => _slots[slot];
        set => _slots[slot] = value;
    }

    public ulong Rip { readonly get => _slots[(int)Register.Rip]; set => _slots[(int)Register.Rip] = value; }
    public ulong Rsp { readonly get => _slots[(int)Register.Rsp]; set => _slots[(int)Register.Rsp] = value; }

    [System.Diagnostics.CodeAnalysis.UnscopedRef]
    public Span<ulong> AsSpan() => _slots;

    /// <summary>Bit i set where slot i differs between the two files.</summary>
    public readonly uint DiffMask(in RegisterFile other)
    {
        uint mask = 0;
        for (int i = 0; i < Registers.Count; i++)
            if (_slots[i] != other._slots[i]) mask |= 1u << i;
        return mask;
    }

    public readonly bool Equals(RegisterFile other) => DiffMask(other) == 0;
    public override readonly bool Equals(object? obj) => obj is RegisterFile r && Equals(r);
    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        for (int i = 0; i < Registers.Count; i++) h.Add(_slots[i]);
        return h.ToHashCode();
    }

    public override readonly string ToString()
    {
        var parts = new string[Registers.Count];
        for (int i = 0; i < Registers.Count; i++) parts[i] = $"{Registers.Names[i]}={_slots[i]:x}";
        return string.Join(' ', parts);
    }
}
