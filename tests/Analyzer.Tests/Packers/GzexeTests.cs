using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Tests.Packers;

/// <summary>
/// A real packer: Debian's gzexe turns a program into a shell script that runs tail | gzip -cd into a
/// mktemp -d file, chmods it and execs it. The program gzip wrote (another process than the shell
/// that execs it) must come out as a layer with its entry point and its whole file.
/// </summary>
public sealed class GzexeTests
{
    [Fact]
    public void The_program_gzexe_unpacks_is_a_layer_with_its_entry_point_and_whole_file()
    {
        using var dir = new TempDir();
        var original = UpxStylePacker.BuildPieOriginal(dir.Path, 10);
        string packed = dir.File("packed");
        File.Copy(original.Path, packed);
        var gzexe = EtherProcess.Exec(dir.Path, "gzexe", packed);
        Assert.True(gzexe.ExitCode == 0, gzexe.ToString());
        Assert.StartsWith("#!/bin/sh", File.ReadAllText(packed));

        var expected = EtherProcess.Exec(dir.Path, original.Path, "arg1");
        PackedRun.AssertSameBehaviour(expected, EtherProcess.Exec(dir.Path, packed, "arg1"));

        using var run = PackedRun.Record(dir.Path, "syscalls", expected, [packed, "arg1"]);
        // One layer: the temporary file gzip wrote, exec'd by the script's shell (chmod 700 FILE is no interpreter).
        var layer = run.Layers.Single(l => l.Layer > 0);
        Assert.Equal((1, LayerArrival.ExecOfWrittenFile), (layer.Layer, layer.Arrival));
        Assert.Contains("gztmp", layer.Chain);
        Assert.Matches(@"pid \d+ write", layer.Chain);
        var gzip = Convert.ToInt32(run.Db.Scalar("SELECT pid FROM execs WHERE path LIKE '%gzip' LIMIT 1"));
        Assert.Contains($"pid {gzip} write", layer.Chain); // the writer is gzip, not the shell that execs it
        var oep = run.Oeps.Single(o => o.Chosen);
        Assert.Equal(layer.EntryAddress, oep.Address);
        Assert.Equal(OepEvidence.ExecEntry, oep.Evidence);
        // A PIE: the entry is e_entry past a page-aligned load base, inside the file's code mapping.
        Assert.Equal(0UL, (oep.Address - original.Entry) & 0xfff);
        Assert.InRange(oep.Address, layer.RegionStart!.Value, layer.RegionEnd!.Value - 1);

        run.AssertExecImageIs(original, expected, "arg1");
    }
}
