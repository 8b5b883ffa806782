using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Analyzer.Tests.Support;
using LibObjectFile.Elf;
using P = Ether.Replay.Analyzer.Tests.Support.FakePackedProgram;

namespace Ether.Replay.Analyzer.Tests.Analyses;

public sealed class LayerDumpTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    public void Each_layer_is_dumped_as_it_was_when_entered(int layers, bool reuse)
    {
        using var x = new Exported(p => P.Write(p, layers, reuse));
        using var session = ReplaySession.Open(x.Trace);
        var rows = UnpackReport.Layers(x.Db);
        string dir = Path.Combine(Path.GetDirectoryName(x.Trace)!, "dumps");
        var dumped = LayerDump.Write(session, rows, dir);
        for (int k = 1; k <= layers; k++)
        {
            ulong at = P.LayerAddress(k, reuse);
            var file = dumped.Single(d => Path.GetFileName(d.Path).StartsWith($"pid4000-image0-layer{k}-"));
            var bytes = File.ReadAllBytes(file.Path);
            var code = P.LayerCode(k, layers);
            Assert.Equal(code, bytes.AsSpan((int)(at - file.Start), code.Length).ToArray());
        }
        // With reuse, layer 3 overwrote layer 1's bytes; layer 1's dump still shows layer 1.
        Assert.Contains("dumps.txt", Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void The_image_is_rebuilt_as_an_elf_whose_entry_is_the_original_entry_point()
    {
        using var x = new Exported(p => P.Write(p, 2));
        using var session = ReplaySession.Open(x.Trace);
        var rows = UnpackReport.Layers(x.Db);
        string dir = Path.Combine(Path.GetDirectoryName(x.Trace)!, "dumps");
        var elfDump = LayerDump.Write(session, rows, dir).Single(d => d.Path.EndsWith(".elf"));
        using var stream = File.OpenRead(elfDump.Path);
        var elf = ElfFile.Read(stream);
        Assert.Equal(ElfFileType.Executable, elf.FileType);
        Assert.Equal(P.PayloadAddress, elf.EntryPointAddress);
        var loads = elf.Segments.Where(s => s.Type == ElfSegmentTypeCore.Load).OrderBy(s => s.VirtualAddress).ToList();
        Assert.Equal([P.ImageBase, P.StubAddress, P.PayloadAddress], loads.Select(s => s.VirtualAddress));
        Assert.Equal(ElfSegmentFlagsCore.Readable | ElfSegmentFlagsCore.Writable | ElfSegmentFlagsCore.Executable, (ElfSegmentFlagsCore)loads[2].Flags.Value);
        // The payload segment holds the decrypted layer 1 at its start.
        var file = File.ReadAllBytes(elfDump.Path);
        var payload = file.AsSpan((int)loads[2].Position, P.LayerCode(1, 2).Length).ToArray();
        Assert.Equal(P.LayerCode(1, 2), payload);
        // The stub's code came from its exec snapshot.
        Assert.Equal(P.LayerCode(0, 2)[..5], file.AsSpan((int)loads[1].Position + (int)(P.StubLoop(2, false) - P.StubAddress), 5).ToArray());
    }
}
