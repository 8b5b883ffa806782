using System.Security.Cryptography;
using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Analyzer.Unpack;
using Ether.Replay.Formats.Memory;
using LibObjectFile.Diagnostics;
using LibObjectFile.Elf;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>
/// `ether unpack --dump DIR`: each layer's region as raw bytes, as it was the moment execution
/// entered the layer, and for the program's own image a runnable ELF rebuilt from memory at the
/// original-entry-point candidate, with its entry point set there. Bytes the trace never saw come
/// from the original program file when it is still at its recorded path with the recorded SHA-256,
/// else zeros (and the dump says how many). The rebuilt ELF maps the image's regions (plus the
/// anonymous region right after it: .bss) at their recorded addresses, so it suits statically
/// linked images; a dynamically linked image gets raw dumps only.
/// </summary>
public static class LayerDump
{
    /// <summary>Regions larger than this are cut to this much around the layer's entry.</summary>
    public const long MaxRegionBytes = 64L << 20;

    public sealed record Dumped(string Path, ulong Start, ulong End, long KnownBytes, long FromFile, string What);

    /// <param name="oeps">The images' original-entry-point candidates (oep_candidates.sql); the chosen
    /// one of each image is where its runnable ELF starts. Without them, the rows marked as holding the
    /// OEP give it (their entry).</param>
    public static List<Dumped> Write(ReplaySession session, IReadOnlyList<LayerRow> layers, string directory, IReadOnlyList<OepRow>? oeps = null)
    {
        Directory.CreateDirectory(directory);
        var original = OriginalFile(session);
        var dumped = new List<Dumped>();
        foreach (var l in layers)
        {
            if (l.RegionStart is not { } start || l.RegionEnd is not { } end || end <= start) continue;
            (start, end) = Clamp(start, end, l.EntryAddress);
            // Memory as the layer's first instruction was about to run; a layer that arrived by exec
            // begins at the exec's step, whose events (the new image's snapshots) come with it.
            long step = l.Arrival is "exec-of-written-file" or "memfd" ? l.FirstStep : Math.Max(0, l.FirstStep - 1);
            var image = Read(session, step, l.Pid, new Region(start, end, 0, 0, l.RegionName ?? ""), original, out long fromFile);
            string name = $"pid{l.Pid}-image{l.Image}-layer{l.Layer}-0x{start:x}-0x{end:x}.bin";
            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, image.Bytes);
            dumped.Add(new Dumped(path, start, end, image.KnownCount, fromFile, $"layer {l.Layer} at its entry (step {l.FirstStep})"));
        }
        var chosen = oeps?.Where(o => o.Chosen).Select(o => (o.Pid, o.Image, o.Address, o.Step, o.Layer)).ToList()
                     ?? layers.Where(l => l.OepCandidate && l.Layer > 0).Select(l => (l.Pid, l.Image, Address: l.EntryAddress, Step: l.FirstStep, l.Layer)).ToList();
        foreach (var oep in chosen)
        {
            // The layer row that holds the OEP (its region names the image's pieces).
            var row = layers.Where(l => l.Pid == oep.Pid && l.Image == oep.Image && l.Layer == oep.Layer
                                        && (l.RegionStart is not { } s || (oep.Address >= s && oep.Address < l.RegionEnd)))
                            .OrderBy(l => l.FirstStep).FirstOrDefault();
            string path = Path.Combine(directory, $"pid{oep.Pid}-image{oep.Image}-unpacked.elf");
            long step = Math.Max(0, oep.Step - 1);
            if (ImageRebuild.FromMemory(session, oep.Pid, step, oep.Address, out ulong imageStart, out long known) is { } file)
            {
                File.WriteAllBytes(path, file);
                MakeExecutable(path);
                dumped.Add(new Dumped(path, imageStart, imageStart + (ulong)file.Length, known, 0,
                    $"runnable ELF rebuilt from the image and ELF header in memory, entry 0x{oep.Address:x} (layer {oep.Layer}, step {oep.Step})"));
            }
            else if (row != null && RebuildElf(session, row with { EntryAddress = oep.Address, FirstStep = oep.Step }, original, path) is { } d)
                dumped.Add(d);
        }
        File.WriteAllLines(Path.Combine(directory, "dumps.txt"), dumped.Select(d =>
            $"{Path.GetFileName(d.Path)}\t0x{d.Start:x}-0x{d.End:x}\t{d.What}\tbytes seen in the trace: {d.KnownBytes} of {d.End - d.Start}" +
            (d.FromFile > 0 ? $", from the original file: {d.FromFile}" : "")));
        return dumped;
    }

    /// <summary>The image's regions at the OEP step as PT_LOAD segments of a new executable whose entry is the OEP.</summary>
    public static Dumped? RebuildElf(ReplaySession session, LayerRow oep, OriginalProgram? original, string path)
    {
        long step = Math.Max(0, oep.FirstStep - 1);
        var regions = session.RegionsAt(step, oep.Pid);
        string imageName = oep.RegionName ?? "";
        var mine = new List<Region>();
        foreach (var r in regions)
        {
            bool image = imageName.Length > 0 && r.Name == imageName;
            bool bss = r.Name.Length == 0 && mine.Count > 0 && mine[^1].End == r.Start && mine[^1].Name == imageName;
            if (image || bss) mine.Add(r);
        }
        if (mine.Count == 0) return null;
        bool is64 = Disassembly.Disassembler.BitnessOf(session.Header.Architecture) == 64;
        var elf = new ElfFile(is64 ? ElfArch.X86_64 : ElfArch.I386, is64 ? ElfFileClass.Is64 : ElfFileClass.Is32, ElfEncoding.Lsb)
        {
            FileType = ElfFileType.Executable,
            EntryPointAddress = oep.EntryAddress,
        };
        long known = 0, fromFile = 0;
        foreach (var r in mine)
        {
            var (start, end) = Clamp(r.Start, r.End, oep.EntryAddress);
            var memory = Read(session, step, oep.Pid, r with { Start = start, End = end }, r.Name == imageName ? original : null, out long f);
            known += memory.KnownCount;
            fromFile += f;
            var data = new ElfStreamContentData(new MemoryStream(memory.Bytes)) { FileAlignment = 0x1000 };
            elf.Add(data);
            var flags = ElfSegmentFlagsCore.None;
            if ((r.Protection & Formats.Model.RegionProtection.Read) != 0) flags |= ElfSegmentFlagsCore.Readable;
            if ((r.Protection & Formats.Model.RegionProtection.Write) != 0) flags |= ElfSegmentFlagsCore.Writable;
            if ((r.Protection & Formats.Model.RegionProtection.Execute) != 0) flags |= ElfSegmentFlagsCore.Executable;
            elf.Segments.Add(new ElfSegment
            {
                Type = ElfSegmentTypeCore.Load,
                Range = new ElfContentRange(data),
                VirtualAddress = start,
                PhysicalAddress = start,
                SizeInMemory = end - start,
                Flags = flags,
            });
        }
        elf.Add(new ElfSectionHeaderTable());
        var diagnostics = new DiagnosticBag();
        elf.UpdateLayout(diagnostics);
        if (diagnostics.HasErrors) throw new InvalidOperationException($"the rebuilt ELF does not lay out: {diagnostics.Messages.FirstOrDefault()}");
        using (var file = File.Create(path)) elf.Write(file);
        MakeExecutable(path);
        ulong lo = mine.Min(r => r.Start), hi = mine.Max(r => r.End);
        return new Dumped(path, lo, hi, known, fromFile, $"runnable ELF of the image with entry 0x{oep.EntryAddress:x} (layer {oep.Layer}, step {oep.FirstStep})");
    }

    private static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    /// <summary>The recorded program, if it is still where it was recorded with the same content.</summary>
    public sealed record OriginalProgram(string Path, byte[] Bytes);

    public static OriginalProgram? OriginalFile(ReplaySession session)
    {
        string path = session.Header.TargetPath;
        string sha = session.Header.TargetSha256;
        if (path.Length == 0 || sha.Length == 0 || !File.Exists(path)) return null;
        try
        {
            var bytes = File.ReadAllBytes(path);
            return Convert.ToHexString(SHA256.HashData(bytes)).Equals(sha, StringComparison.OrdinalIgnoreCase) ? new OriginalProgram(path, bytes) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static MemoryBytes Read(ReplaySession session, long step, int pid, Region region, OriginalProgram? original, out long fromFile)
    {
        var memory = session.ReadMemory(step, pid, region.Start, (int)(region.End - region.Start));
        fromFile = 0;
        if (original == null || !region.HasFile) return memory;
        // Bytes the trace never saw but the file maps there unchanged (code and data nobody wrote).
        var mapped = session.RegionsAt(step, pid).Where(r => r.Name == region.Name && r.End > region.Start && r.Start < region.End);
        foreach (var r in mapped)
        {
            for (ulong a = Math.Max(r.Start, region.Start); a < Math.Min(r.End, region.End); a++)
            {
                int i = (int)(a - region.Start);
                if (memory.Known[i]) continue;
                ulong offset = r.OffsetAt(a);
                if (offset >= (ulong)original.Bytes.Length) continue;
                memory.Bytes[i] = original.Bytes[offset];
                fromFile++;
            }
        }
        return memory;
    }

    private static (ulong Start, ulong End) Clamp(ulong start, ulong end, ulong around)
    {
        if (end - start <= (ulong)MaxRegionBytes) return (start, end);
        ulong half = (ulong)MaxRegionBytes / 2;
        ulong s = around > start + half ? (around - half) & ~0xfffUL : start;
        return (s, Math.Min(end, s + (ulong)MaxRegionBytes));
    }
}
