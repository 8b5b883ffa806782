using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Tests.Packers;

/// <summary>
/// Issue 12 test (e), three nested layers crossing exec: a dropper (layer 0) decrypts a crypter
/// into a memfd or a temporary file and execs it (layer 1, by exec); the crypter's stub decrypts the
/// original program into memory and jumps to it (layer 2, written by layer 1). The packers are the
/// tests' own: <see cref="DropperProgram"/> around <see cref="KdfCrypter"/> around the original.
/// </summary>
public sealed class NestedLayersTests
{
    /// <summary>Few key-derivation rounds: full mode steps the stub (test (f) is the long one).</summary>
    private const long Rounds = 1_000;

    [Theory]
    [InlineData("execveat", "full")]
    [InlineData("execveat", "unpack")]
    [InlineData("shell", "unpack")]
    [InlineData("execveat", "syscalls")]
    [InlineData("execveat", "layers")]
    [InlineData("shell", "layers")]
    public void The_program_a_dropped_crypter_decrypts_is_layer_two_with_the_original_entry_point_and_text(string variant, string mode)
    {
        using var dir = new TempDir();
        var original = UpxStylePacker.BuildStaticOriginal(dir.Path, 50);
        var crypter = OriginalProgram.Read(KdfCrypter.Pack(dir.Path, original, "kdf-packed", Rounds));
        string dropper = DropperProgram.Build(dir.Path, crypter.Path, variant, "dropper");
        var expected = EtherProcess.Exec(dir.Path, original.Path, "arg1");
        TestProgram.CopyExecutable(dropper, dir.File("native-copy")); // the execveat dropper unlinks itself
        PackedRun.AssertSameBehaviour(expected, EtherProcess.Exec(dir.Path, dir.File("native-copy")));

        using var run = PackedRun.Record(dir.Path, mode, expected, [dropper]);
        run.AssertExitCode(expected.ExitCode, lastExec: true);
        var layers = run.Layers;

        // Layer 1: the crypter, arrived as a file the dropper wrote; its entry is the crypter's own.
        var byExec = layers.Single(l => l.Arrival is LayerArrival.Memfd or LayerArrival.ExecOfWrittenFile);
        Assert.Equal(variant == "shell" ? LayerArrival.ExecOfWrittenFile : LayerArrival.Memfd, byExec.Arrival);
        Assert.Equal((1, crypter.Entry), (byExec.Layer, byExec.EntryAddress));
        run.AssertExecImageIs(crypter, expected, "arg1");

        if (mode == "syscalls")
        {
            // Nothing runs stepped and no page is watched: the layer by exec is all this mode can see.
            Assert.DoesNotContain(layers, l => l.Layer > 1);
            var exec = run.Oeps.Single(o => o.Chosen && o.Pid == byExec.Pid);
            Assert.Equal((crypter.Entry, OepEvidence.ExecEntry), (exec.Address, exec.Evidence));
            return;
        }

        // Layer 2: the original program, written by the crypter's code, in the same process image.
        var decrypted = layers.Single(l => l.OepCandidate);
        Assert.Equal((2, original.Entry), (decrypted.Layer, decrypted.EntryAddress));
        Assert.Equal((byExec.Pid, byExec.Image), (decrypted.Pid, decrypted.Image));
        Assert.DoesNotContain(layers, l => l.Layer > 2);
        var oep = run.Oeps.Single(o => o.Chosen && o.Pid == decrypted.Pid);
        Assert.Equal((original.Entry, OepEvidence.EntryState, 2), (oep.Address, oep.Evidence, oep.Layer));
        Assert.Contains($"* original entry point: 0x{original.Entry:x} (layer 2", run.Unpacked!.Stdout);
        run.AssertDumpHoldsText(decrypted, original);
    }
}
