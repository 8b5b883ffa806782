namespace Ether.Replay.Formats.Abi;

/// <summary>One named value of a C header, e.g. O_CLOEXEC = 0x80000.</summary>
public readonly record struct NamedConstant(string Name, long Value);

/// <summary>
/// A set of related constants (open flags, clock ids, ...) as the generator took them from the
/// headers, in display order: flag formatting walks the entries in this order, the way strace does.
/// </summary>
public sealed class ConstantSet
{
    private readonly NamedConstant[] _entries;
    private readonly Dictionary<string, long> _byName;

    public ConstantSet(string name, NamedConstant[] entries)
    {
        Name = name;
        _entries = entries;
        _byName = new Dictionary<string, long>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
            _byName.TryAdd(entry.Name, entry.Value);
    }

    /// <summary>The set's name in LinuxConstants, e.g. "OpenFlags".</summary>
    public string Name { get; }

    public ReadOnlySpan<NamedConstant> Entries => _entries;

    /// <summary>The first name with exactly this value (aliases that come later lose), or null.</summary>
    public string? NameOf(long value)
    {
        foreach (var entry in _entries)
            if (entry.Value == value)
                return entry.Name;
        return null;
    }

    public bool TryGetValue(string name, out long value) => _byName.TryGetValue(name, out value);
}
