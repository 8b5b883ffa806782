using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Tests.Packers;

/// <summary>
/// Interpreters count (issue 12): a shell script the recorded program wrote and then ran — exec'd
/// itself (#!/bin/sh: the kernel runs the interpreter on it) or named to the shell (`sh FILE`) — is a
/// layer that arrived by exec, and `ether unpack --dump` writes it out as the script it was.
/// The dropper (Programs/packers/dropper.c) drops the script instead of a program.
/// </summary>
public sealed class ScriptLayerTests
{
    private const string Script = "#!/bin/sh\necho \"dropped script ran with $1\"\nexit 7\n";

    [Theory]
    [InlineData("shell", "syscalls")]   // sh -c 'exec "$0" arg1' FILE: the file itself is exec'd
    [InlineData("shfile", "syscalls")]  // sh FILE arg1: the file is the interpreter's argument
    [InlineData("shell", "unpack")]
    [InlineData("shfile", "full")]
    [InlineData("shell", "layers")]
    public void A_written_script_that_runs_is_a_layer_by_exec_and_is_dumped_as_written(string variant, string mode)
    {
        using var dir = new TempDir();
        string script = dir.File("payload.sh");
        File.WriteAllText(script, Script);
        string dropper = DropperProgram.Build(dir.Path, script, variant, "dropper");
        var expected = EtherProcess.Exec(dir.Path, "/bin/sh", script, "arg1");
        Assert.Equal((7, "dropped script ran with arg1\n"), (expected.ExitCode, expected.Stdout));
        PackedRun.AssertSameBehaviour(expected, EtherProcess.Exec(dir.Path, dropper));

        using var run = PackedRun.Record(dir.Path, mode, expected, [dropper]);
        run.AssertExitCode(expected.ExitCode, lastExec: true);
        var layer = run.Layers.Single(l => l.Layer > 0);
        Assert.Equal((1, LayerArrival.ExecOfWrittenFile), (layer.Layer, layer.Arrival));
        Assert.Contains(".cache-drop: pid", layer.Chain);
        Assert.Matches(@"pid \d+ write", layer.Chain);
        Assert.Equal(variant == "shfile", layer.Chain!.Contains("(as an interpreter's argument)"));
        Assert.Equal(Script, File.ReadAllText(run.Dump("*-exec.script")));
    }
}
