using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Memory;

/// <summary>One mapping of an address space, as a line of /proc/PID/maps shows it: [Start, End).</summary>
public readonly record struct Region(ulong Start, ulong End, RegionProtection Protection, ulong FileOffset, string Name)
{
    /// <summary>The backing file's device (glibc makedev encoding, as stat's st_dev) and inode; 0 for
    /// anonymous memory or when not known. With the name, which file the region shows.</summary>
    public ulong Device { get; init; }
    public ulong Inode { get; init; }

    public ulong Size => End - Start;
    public bool Contains(ulong address) => address >= Start && address < End;

    /// <summary>
    /// Whether the offset column is a file position that advances with the address. The kernel
    /// prints 0 for mappings without a file; those have bracketed or empty names ([heap], [stack],
    /// [anon:x], [vdso]). Everything else ("/usr/lib/x.so", "/memfd:y (deleted)", "anon_inode:z")
    /// has a file.
    /// </summary>
    public bool HasFile => Name.Length > 0 && Name[0] != '[';

    /// <summary>The file offset shown for a piece of this region starting at <paramref name="address"/>:
    /// continuous for a file, unchanged (0) for memory without one.</summary>
    public ulong OffsetAt(ulong address) => HasFile ? FileOffset + (address - Start) : FileOffset;

    /// <summary>The region a map event adds.</summary>
    public static Region Of(RegionMapEvent e) => new(e.Start, e.End, e.Protection, e.FileOffset, e.Name) { Device = e.Device, Inode = e.Inode };

    /// <summary>A map event that adds this region (step, pid and tid left for the caller).</summary>
    public RegionMapEvent ToMapEvent() => new() { Start = Start, End = End, Protection = Protection, FileOffset = FileOffset, Name = Name, Device = Device, Inode = Inode };

    /// <summary>The maps line without device and inode: "401000-402000 r-xp 1000 /bin/x".</summary>
    public override string ToString() => $"{Start:x}-{End:x} {ProtectionText.Of(Protection)} {FileOffset:x} {Name}";
}
