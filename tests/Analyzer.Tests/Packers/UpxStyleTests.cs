using Ether.Replay.Analyzer.Tests.Support;
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
}
