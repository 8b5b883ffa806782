using System.Diagnostics;

namespace Ether.Replay.Tests.Shared;

/// <summary>Builds the real ether-agent (and its synthetic-session generator) once per test run.</summary>
internal static class XenAgentBuild
{
    private static readonly Lazy<string> BuildDir = new(Build);

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Ether.Replay.sln"))) return dir.FullName;
            throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }

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
        string source = Path.Combine(RepoRoot, "xen-ether", "agent");
        string build = Path.Combine(source, "build");
        Run("cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release");
        Run("cmake", "--build", build, "-j2");
        return build;
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }
}
