using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Tests.Packers;

/// <summary>
/// Layers that arrive by exec: droppers that decrypt a whole program into a memfd or a temporary
/// file and exec it (execveat AT_EMPTY_PATH, /proc/self/fd/N after fork+setsid+chdir, through
/// /bin/sh), recorded with the real recorder in syscalls, full, unpack and layers mode: the same layer in each.
/// </summary>
public sealed class DropperTests
{
    [Theory]
    [InlineData("execveat", "syscalls")]
    [InlineData("execveat", "full")]
    [InlineData("procfd", "syscalls")]
    [InlineData("shell", "syscalls")]
    [InlineData("shell", "full")]
    [InlineData("execveat", "unpack")]
    [InlineData("shell", "unpack")]
    [InlineData("execveat", "layers")]
    [InlineData("shell", "layers")]
    public void The_dropped_program_is_a_layer_one_deeper_with_the_original_entry_point_and_its_whole_file(string variant, string mode)
    {
        using var dir = new TempDir();
        var original = UpxStylePacker.BuildStaticOriginal(dir.Path, 50);
        string dropper = DropperProgram.Build(dir.Path, original.Path, variant, "dropper");
        var expected = EtherProcess.Exec(dir.Path, original.Path, "arg1");

        // Natively (a copy: the execveat dropper unlinks itself).
        TestProgram.CopyExecutable(dropper, dir.File("native-copy"));
        PackedRun.AssertSameBehaviour(expected, EtherProcess.Exec(dir.Path, dir.File("native-copy")));

        using var run = PackedRun.Record(dir.Path, mode, expected, [dropper]);
        run.AssertExitCode(expected.ExitCode, lastExec: true);

        var layer = run.Layers.Single(l => l.Arrival is LayerArrival.Memfd or LayerArrival.ExecOfWrittenFile);
        Assert.Equal(variant == "shell" ? LayerArrival.ExecOfWrittenFile : LayerArrival.Memfd, layer.Arrival);
        Assert.Equal(1, layer.Layer);
        Assert.Equal(original.Entry, layer.EntryAddress);
        Assert.True(layer.OepCandidate);
        Assert.Contains(variant == "shell" ? "open" : "memfd_create", layer.Chain);
        Assert.Contains("write", layer.Chain);
        Assert.Contains(variant == "execveat" ? "execveat" : "execve", layer.Chain);
        Assert.Contains($"arrived as a file: {layer.Chain}", run.Unpacked!.Stdout);

        var oep = run.Oeps.Single(o => o.Chosen && o.Pid == layer.Pid);
        Assert.Equal(original.Entry, oep.Address);
        // Full mode (and layers mode, which steps the exec'd written image) sees the first instruction
        // run with the kernel's entry state; syscalls and unpack mode know the exec'd file's entry.
        bool steps = mode is "full" or "layers";
        Assert.Equal(steps ? OepEvidence.EntryState : OepEvidence.ExecEntry, oep.Evidence);

        // --dump wrote the exec'd image whole: the original program, which runs.
        run.AssertExecImageIs(original, expected, "arg1");
        // The layer's memory dump at its entry holds the original .text at its address.
        if (steps) run.AssertDumpHoldsText(layer, original);
        if (mode == "layers")
        {
            // The dropped program ran stepped from its first instruction: the whole of it is in the trace, layer 1.
            long stepped = Convert.ToInt64(run.Db.Scalar($"SELECT count(*) FROM instructions WHERE pid = {layer.Pid} AND layer = 1"));
            Assert.True(stepped > 1000, $"{stepped} instructions of the dropped program stepped");
        }
    }
}
