namespace Ether.Replay.Analyzer.Tests.EndToEnd;

/// <summary>The test programs themselves, natively: what the recorded runs are compared with.</summary>
public sealed class LayeredProgramTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    public void Each_layered_program_runs_and_prints_its_message(int layers, bool reuse)
    {
        using var dir = new TempDir();
        var program = LayeredProgram.Build(dir.Path, layers, reuse);
        var r = EtherProcess.Exec(dir.Path, program.Path);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(program.Message, r.Stdout);
        // Each layer's code lives at its own address, decrypting the next: the deeper, the shorter.
        for (int k = 1; k < layers; k++) Assert.True(program.Code(k).Length > program.Code(k + 1).Length);
    }
}
