namespace Ether.Replay.Analyzer.Tests.Support;

/// <summary>Compiles a C program of Programs/ (copied next to the tests) with gcc at test time.</summary>
internal static class TestProgram
{
    /// <summary>Builds Programs/<paramref name="source"/> (e.g. "unpackmode/wx_probe.c") into DIRECTORY/<paramref name="name"/>.</summary>
    public static string Build(string directory, string source, string name, params string[] flags)
    {
        string output = Path.Combine(directory, name);
        var gcc = EtherProcess.Exec(directory, "gcc", ["-O1", .. flags, "-o", output, Path.Combine(AppContext.BaseDirectory, "Programs", source)]);
        Assert.True(gcc.ExitCode == 0, gcc.ToString());
        return output;
    }
}
