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
        // Written back now, not whenever the kernel gets to it: until then the file's page-cache pages
        // are dirty, and a private mapping of one the program never wrote counts as Private_Dirty in
        // smaps, after the writeback as Private_Clean — the maps probe's native and recorded runs
        // straddling the writeback printed different counters.
        using (var file = File.OpenHandle(output, FileMode.Open, FileAccess.ReadWrite)) RandomAccess.FlushToDisk(file);
        return output;
    }
}
