using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Analyzer.Query;
using Ether.Replay.Analyzer.Tests.Support;
using Ether.Replay.Analyzer.Unpack;
using Ether.Replay.Tests.Shared;

namespace Ether.Replay.Analyzer.Tests.Packers;

/// <summary>The UPX-style packer (static: clean-up stub that unmaps the unpacker; PIE: auxv handed to ld.so).</summary>
public sealed class UpxStyleTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_packed_program_behaves_as_the_original_natively(bool pie)
    {
        using var dir = new TempDir();
        var original = pie ? UpxStylePacker.BuildPieOriginal(dir.Path, 300) : UpxStylePacker.BuildStaticOriginal(dir.Path, 300);
        var packed = UpxStylePacker.Pack(dir.Path, original, pie ? "packed-pie" : "packed-static");
        var expected = EtherProcess.Exec(dir.Path, original.Path, "arg1");
        var got = EtherProcess.Exec(dir.Path, packed.Path, "arg1");
        Assert.Contains("AT_ENTRY is mine", expected.Stdout);
        Assert.Equal(expected.Stdout, got.Stdout);
        Assert.Equal(expected.ExitCode, got.ExitCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unpack_finds_the_original_entry_point_dumps_the_original_text_and_rebuilds_a_program_that_runs(bool pie)
    {
        using var dir = new TempDir();
        var original = pie ? UpxStylePacker.BuildPieOriginal(dir.Path, 300) : UpxStylePacker.BuildStaticOriginal(dir.Path, 300);
        var packed = UpxStylePacker.Pack(dir.Path, original, pie ? "packed-pie" : "packed-static");
        var native = EtherProcess.Exec(dir.Path, packed.Path, "arg1");
        var record = EtherProcess.Run(dir.Path, TimeSpan.FromMinutes(5), "record", "--output", dir.File("t.etrace"), "--", packed.Path, "arg1");
        Assert.True(record.ExitCode == 0, record.ToString());
        Assert.Contains(native.Stdout, record.Stdout); // the recorded run printed what the native one did
        string trace = dir.File("t.etrace");

        var r = EtherProcess.Run(dir.Path, "unpack", trace, "--dump", "dumps");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var db = AnalysisDatabase.Open(DatasetTarget.Resolve(trace, null, out _));
        Assert.Equal(native.ExitCode, Convert.ToInt32(db.Scalar("SELECT exit_code FROM processes")));
        var oep = UnpackReport.Oeps(db).Single(o => o.Chosen);
        ulong loadBase = oep.Address - original.Entry; // 0 for the static program
        Assert.Equal(0UL, loadBase & 0xfff);
        if (!pie) Assert.Equal(0UL, loadBase);
        Assert.Equal(OepEvidence.EntryState, oep.Evidence);
        Assert.Contains($"* original entry point: 0x{oep.Address:x} (layer 1", r.Stdout);

        // The layer row holding the OEP starts there, and its dump holds the original .text byte for byte.
        var layer = UnpackReport.Layers(db).Single(l => l.OepCandidate);
        Assert.Equal(oep.Address, layer.EntryAddress);
        Assert.Equal(1, layer.Layer);
        Assert.True(layer.FixupBytes > 0, "the call filter's fix-ups are booked on the layer they fixed");
        string dump = Directory.GetFiles(dir.File("dumps"), $"*-layer1-0x{layer.RegionStart:x}-*.bin").Single();
        byte[] bytes = File.ReadAllBytes(dump);
        ulong text = loadBase + original.TextAddress;
        Assert.Equal(original.Text, bytes.AsSpan((int)(text - layer.RegionStart!.Value), original.Text.Length).ToArray());

        // The fix-up pass is part of the layer it fixed: no ping-pong between layers at every call.
        var transitions = UnpackReport.Transitions(db);
        Assert.True(transitions.Sum(t => t.Times) < 60, string.Join("\n", transitions));

        // The ELF rebuilt at the OEP runs as the original does.
        string elf = Directory.GetFiles(dir.File("dumps"), "*-unpacked.elf").Single();
        var rebuilt = EtherProcess.Exec(dir.Path, elf, "arg1");
        Assert.Equal(native.Stdout, rebuilt.Stdout);
        Assert.Equal(native.ExitCode, rebuilt.ExitCode);
    }
}
