namespace Ether.Replay.Analyzer.Tests.Support;

/// <summary>Records a program with the real recorder.</summary>
internal static class RecordedTrace
{
    public static string Record(string directory, string name, string mode, params string[] command)
    {
        string trace = Path.Combine(directory, name + ".etrace");
        var r = EtherProcess.Run(directory, TimeSpan.FromMinutes(5), ["record", "--mode", mode, "--output", trace, "--", .. command]);
        Assert.True(r.ExitCode == 0, $"ether record failed:\n{r}");
        Assert.True(File.Exists(trace), $"no trace written:\n{r}");
        return trace;
    }
}
