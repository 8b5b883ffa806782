using LibObjectFile.Elf;
using P = Ether.Replay.Tests.Shared.FakePackedProgram;

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

    [Fact]
    public void The_rebuilt_elf_of_a_one_layer_program_runs_and_prints_what_the_original_prints()
    {
        // A fake recording of Programs/layers.c with one layer, made from the real binary: its mapped
        // image (snapshots, as the recorder takes at exec), the mprotect, the decrypting writes, then
        // the jump into layer 1. The original file is not used by the dump (no SHA-256 in the header).
        using var dir = new TempDir();
        var program = LayeredProgram.Build(dir.Path, 1);
        var original = EtherProcess.Exec(dir.Path, program.Path);
        string trace = dir.File("layers1.etrace");
        byte[] file = File.ReadAllBytes(program.Path);
        using (var stream = File.OpenRead(program.Path))
        using (var w = TraceWriter.Create(trace, FakeRecording.Header(program.Path)))
        {
            var elf = ElfFile.Read(stream);
            var f = new FakeRecording(w, 77, 77);
            w.Write(new ExecEvent { Pid = 77, Tid = 77, Path = program.Path, Argv = [program.Path] });
            foreach (var seg in elf.Segments.Where(s => s.Type == ElfSegmentTypeCore.Load))
            {
                ulong start = seg.VirtualAddress & ~0xfffUL, end = (seg.VirtualAddress + seg.SizeInMemory + 0xfff) & ~0xfffUL;
                var protection = RegionProtection.Read | ((seg.Flags.Value & (uint)ElfSegmentFlagsCore.Writable) != 0 ? RegionProtection.Write : 0)
                                 | ((seg.Flags.Value & (uint)ElfSegmentFlagsCore.Executable) != 0 ? RegionProtection.Execute : 0);
                ulong offset = seg.Position & ~0xfffUL;
                f.Map(start, end, protection, program.Path, offset);
                var bytes = new byte[end - start];
                Array.Copy(file, (long)offset, bytes, 0, Math.Min(bytes.Length, file.Length - (long)offset));
                f.Snapshot(start, bytes, "exec");
            }
            f.Run(0x401000, [0x90]);
            w.Write(new RegionProtectEvent { Pid = 77, Tid = 77, Start = LayeredProgram.Layer1Area, End = LayeredProgram.Layer1Area + 0x1000,
                Protection = RegionProtection.Read | RegionProtection.Write | RegionProtection.Execute });
            var code = program.Code(1);
            for (int i = 0; i < code.Length; i++)
            {
                int k = i;
                f.Run(0x401040, [0x88, 0x07], effects: () => f.Write(LayeredProgram.Layer1Area + (ulong)k, [code[k]])); // mov [rdi], al
            }
            f.Run(0x401060, [0xff, 0xd0], next: LayeredProgram.Layer1Area); // call rax
            f.Run(LayeredProgram.Layer1Area, code[..5]);
            w.Close(StopReason.Exited);
        }
        var r = EtherProcess.Run(dir.Path, "unpack", trace, "--dump", "dumps");
        Assert.True(r.ExitCode == 0, r.ToString());
        string rebuilt = Directory.GetFiles(dir.File("dumps"), "*-unpacked.elf").Single();
        var run = EtherProcess.Exec(dir.Path, rebuilt);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(original.Stdout, run.Stdout);
        Assert.Equal("unpacked 1 layer\n", run.Stdout);
    }
}
