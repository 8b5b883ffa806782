using Ether.Replay.Analyzer.Replay;
using LibObjectFile.Elf;

namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// The image a Tenet export lines up with a disassembler: where the process mapped it
/// ([<see cref="Start"/>, <see cref="End"/>), every region of that file), where its file offset 0
/// sits at run time (<see cref="RuntimeBase"/>), where the disassembler shows it
/// (<see cref="DisplayBase"/>), and the difference (<see cref="Slide"/>). A position-independent
/// executable links at 0 and runs at a random base; IDA opens it at its link base (0), Ghidra and
/// Binary Ninja at bases of their own (hence <see cref="TenetRebase.Address"/>).
/// </summary>
public sealed record TenetImage(string Path, ulong Start, ulong End, ulong RuntimeBase, ulong DisplayBase)
{
    public ulong Slide => RuntimeBase - DisplayBase;

    /// <summary>An address (or any value) inside the image, moved to where the disassembler shows it.</summary>
    public ulong Rebase(ulong value) => value >= Start && value < End ? value - Slide : value;

    internal static TenetImage Find(ReplaySession session, int pid, long step, TenetOptions options)
    {
        var regions = session.RegionsAt(step, pid);
        string path = options.Image ?? ExecutableOf(session, pid, step)
            ?? throw new InvalidDataException($"pid {pid}: the trace shows no exec for it; name the image with --image");
        var mine = regions.Where(r => r.Name == path).ToList();
        if (mine.Count == 0 && options.Image != null)
            mine = regions.Where(r => System.IO.Path.GetFileName(r.Name) == options.Image).ToList();
        if (mine.Count == 0)
            throw new InvalidDataException($"pid {pid} has no region of {path} mapped at step {step:N0}");
        path = mine[0].Name;
        // The loaded image starts where the file's first page is mapped (a later mmap of the same file
        // elsewhere is data, not the image).
        var atOffset0 = mine.Where(r => r.FileOffset == 0).ToList();
        var first = (atOffset0.Count > 0 ? atOffset0 : mine).MinBy(r => r.Start);
        ulong runtimeBase = first.Start - first.FileOffset;
        var elf = ElfLayout.TryRead(path);
        ulong end;
        if (elf is { } layout)
        {
            // The image as the disassembler sees it: every loadable segment, .bss included.
            end = runtimeBase + (layout.End - layout.Base);
        }
        else
        {
            if (options.Rebase == TenetRebase.LinkBase)
                throw new InvalidDataException($"cannot read {path} as an ELF file to find its link-time base; give --image-base ADDR, or --image-base none");
            // No file: the regions of it mapped one after the other from its first page, and the
            // anonymous region right after them (.bss).
            end = first.End;
            foreach (var r in regions.Where(r => r.Start >= first.End).OrderBy(r => r.Start))
            {
                if (r.Start != end || (r.Name != path && r.Name != "")) break;
                end = r.End;
                if (r.Name == "") break;
            }
        }
        ulong display = options.Rebase switch
        {
            TenetRebase.Address => options.ImageBase,
            TenetRebase.None => runtimeBase,
            _ => elf!.Value.Base,
        };
        return new TenetImage(path, runtimeBase, end, runtimeBase, display);
    }

    /// <summary>The program the process runs: its last exec, or its parent's for a forked child.</summary>
    private static string? ExecutableOf(ReplaySession session, int pid, long step)
    {
        for (int depth = 0; depth < 64; depth++)
        {
            if (session.PreviousEvent(step + 1, EventKind.Exec, pid) is ExecEvent x) return x.Path;
            if (session.PreviousEvent(step + 1, EventKind.ProcessStart, pid) is not ProcessStartEvent { ParentPid: > 0 } start) break;
            (pid, step) = (start.ParentPid, start.Step);
        }
        return null;
    }

    /// <summary>An ELF file's loadable extent: <see cref="Base"/> where its offset 0 sits in its own address
    /// space (the first loadable segment's address minus its offset: 0 for a position-independent
    /// executable, 0x400000 for a classic one), <see cref="End"/> the end of its last segment in memory.</summary>
    internal readonly record struct ElfLayout(ulong Base, ulong End)
    {
        public static ElfLayout? TryRead(string path)
        {
            try
            {
                using var stream = File.OpenRead(path);
                if (!ElfFile.TryRead(stream, out var elf, out _) || elf == null) return null;
                var loads = elf.Segments.Where(s => s.Type == ElfSegmentTypeCore.Load).ToList();
                if (loads.Count == 0) return null;
                var lowest = loads.MinBy(s => s.VirtualAddress)!;
                ulong end = loads.Max(s => s.VirtualAddress + s.SizeInMemory);
                return new ElfLayout((lowest.VirtualAddress - lowest.Position) & ~0xfffUL, (end + 0xfff) & ~0xfffUL);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
