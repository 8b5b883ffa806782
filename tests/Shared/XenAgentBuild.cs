namespace Ether.Replay.Tests.Shared;

/// <summary>Builds the real ether-agent (and its synthetic-session generator) once per test run.</summary>
internal static class XenAgentBuild
{
    private static readonly Lazy<string> BuildDir = new(Build);

    public static string Agent => Path.Combine(BuildDir.Value, "ether-agent");

    /// <summary>Writes the synthetic Windows XP SP2 session (docs/xen-agent-protocol.md §8) to a file.</summary>
    public static string SyntheticSession(string dir)
    {
        string path = Path.Combine(dir, "session.bin");
        Run(Path.Combine(BuildDir.Value, "make-synthetic-session"), path);
        return path;
    }

    private static string Build()
    {
        string source = Path.Combine(RepoPaths.Root, "xen-ether", "agent");
        string build = Path.Combine(source, "build");
        Run("cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release");
        Run("cmake", "--build", build, "-j2");
        return build;
    }

    private static void Run(string file, params string[] args)
    {
        var r = EtherProcess.Exec(Environment.CurrentDirectory, file, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed:\n{r}");
    }
}
