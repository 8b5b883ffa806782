namespace Ether.Replay.Analyzer.Tests.Support;

/// <summary>
/// An end-to-end test that records a real program with `ether record` (the ptrace recorder, branch
/// ptrace). Until that command is part of the `ether` build these tests are skipped, saying why; once
/// it is merged they run (and can fail) like any other test.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RecorderFactAttribute : FactAttribute
{
    public RecorderFactAttribute()
    {
        if (!RecorderAvailable.Value) Skip = "waits for the ptrace recorder: `ether record` is not in this build yet";
    }

    internal static readonly Lazy<bool> RecorderAvailable = new(() =>
        typeof(Ether.Replay.Cli.EtherCommand).Assembly.GetType("Ether.Replay.Cli.Commands.RecordCommand") != null);
}

/// <summary>The theory version of <see cref="RecorderFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RecorderTheoryAttribute : TheoryAttribute
{
    public RecorderTheoryAttribute()
    {
        if (!RecorderFactAttribute.RecorderAvailable.Value) Skip = "waits for the ptrace recorder: `ether record` is not in this build yet";
    }
}

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
