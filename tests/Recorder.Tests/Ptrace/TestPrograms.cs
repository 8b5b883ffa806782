using System.Diagnostics;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>
/// Builds the tests' own target programs (sources in Programs/, copied next to the test assembly)
/// with gcc at test time, once per source and flag set per test run.
/// </summary>
internal static class TestPrograms
{
    private static readonly string Root = CreateRoot();

    private static string CreateRoot()
    {
        string root = Directory.CreateTempSubdirectory("ether-test-programs-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        };
        return root;
    }
    private static readonly Dictionary<string, string> Built = new();
    private static readonly object Gate = new();

    public static string SourcePath(string source) => Path.Combine(AppContext.BaseDirectory, "Programs", source);

    public static string Build(string source, params string[] flags)
    {
        string key = source + " " + string.Join(' ', flags);
        lock (Gate)
        {
            if (Built.TryGetValue(key, out var existing)) return existing;
            string output = Path.Combine(Root, $"{Path.GetFileNameWithoutExtension(source)}-{Built.Count}");
            var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var f in flags) psi.ArgumentList.Add(f);
            psi.ArgumentList.Add("-o");
            psi.ArgumentList.Add(output);
            psi.ArgumentList.Add(SourcePath(source));
            using var gcc = Process.Start(psi)!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.True(gcc.ExitCode == 0, $"gcc {key} failed:\n{errors}");
            Built[key] = output;
            return output;
        }
    }
}
