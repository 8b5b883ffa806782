using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Model;
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
        var lowest = mine.MinBy(r => r.Start)!;
        ulong runtimeBase = lowest.Start - lowest.FileOffset;
        ulong display = options.Rebase switch
        {
            TenetRebase.Address => options.ImageBase,
            TenetRebase.None => runtimeBase,
            _ => LinkBase(path),
        };
        return new TenetImage(path, lowest.Start, mine.Max(r => r.End), runtimeBase, display);
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

    /// <summary>Where the ELF file's offset 0 is in its own address space: the first loadable segment's
    /// address minus its file offset (0 for a position-independent executable, 0x400000 for a classic one).</summary>
    internal static ulong LinkBase(string path)
    {
        ElfFile? elf;
        try
        {
            using var stream = File.OpenRead(path);
            if (!ElfFile.TryRead(stream, out elf, out var diagnostics) || elf == null)
                throw new InvalidDataException($"{path}: not an ELF file the export can read ({string.Join("; ", diagnostics?.Messages.Take(1).Select(m => m.Message) ?? [])}); give --image-base");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read {path} to find its link-time base ({e.Message}); give --image-base ADDR, or --image-base none");
        }
        var load = elf.Segments.Where(s => s.Type == ElfSegmentTypeCore.Load).MinBy(s => s.VirtualAddress)
            ?? throw new InvalidDataException($"{path} has no loadable segment; give --image-base");
        return (load.VirtualAddress - load.Position) & ~0xfffUL;
    }
}
