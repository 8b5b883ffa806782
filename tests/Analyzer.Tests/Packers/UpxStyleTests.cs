using Ether.Replay.Analyzer.Unpack;

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
        Assert.Contains("AT_ENTRY is mine", expected.Stdout);
        PackedRun.AssertSameBehaviour(expected, EtherProcess.Exec(dir.Path, packed.Path, "arg1"));
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
        using var run = PackedRun.Record(dir.Path, "full", native, [packed.Path, "arg1"]); // the recorded run printed what the native one did
        run.AssertExitCode(native.ExitCode);
        var oep = run.Oeps.Single(o => o.Chosen);
        ulong loadBase = oep.Address - original.Entry; // 0 for the static program
        Assert.Equal(0UL, loadBase & 0xfff);
        if (!pie) Assert.Equal(0UL, loadBase);
        Assert.Equal(OepEvidence.EntryState, oep.Evidence);
        Assert.Contains($"* original entry point: 0x{oep.Address:x} (layer 1", run.Unpacked!.Stdout);

        // The layer row holding the OEP starts there, and its dump holds the original .text byte for byte.
        var layer = run.Layers.Single(l => l.OepCandidate);
        Assert.Equal(oep.Address, layer.EntryAddress);
        Assert.Equal(1, layer.Layer);
        Assert.True(layer.FixupBytes > 0, "the call filter's fix-ups are booked on the layer they fixed");
        run.AssertDumpHoldsText(layer, original, loadBase);

        // The fix-up pass is part of the layer it fixed: no ping-pong between layers at every call.
        var transitions = run.Transitions;
        Assert.True(transitions.Sum(t => t.Times) < 60, string.Join("\n", transitions));

        // The ELF rebuilt at the OEP runs as the original does.
        PackedRun.AssertSameBehaviour(native, EtherProcess.Exec(dir.Path, run.Dump("*-unpacked.elf"), "arg1"));
    }
}
