using System.Diagnostics;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>
/// Builds every suite program once per test run, in parallel, into a directory with a neutral
/// name (/tmp/tmp.XXXXXXXX, like mktemp's): the programs look for analysis words in their own
/// paths, their working directory and their parent's command line.
/// </summary>
public static class SuiteBuild
{
    private static readonly Lazy<(string Directory, IReadOnlyList<SuiteProgram> Programs)> Built = new(Build);

    public static string Directory => Built.Value.Directory;
    public static IReadOnlyList<SuiteProgram> Programs => Built.Value.Programs;

    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "Programs");

    private static (string, IReadOnlyList<SuiteProgram>) Build()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("tmp.").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.IO.Directory.Delete(dir, recursive: true); } catch (IOException) { }
        };
        var programs = SuiteProgram.All(SourceDirectory).Select(p => p with { Binary = Path.Combine(dir, p.Name) }).ToList();
        var errors = new List<string>();
        Parallel.ForEach(programs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, p =>
        {
            var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in p.GccArguments(p.Binary)) psi.ArgumentList.Add(a);
            using var gcc = Process.Start(psi)!;
            string err = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0) lock (errors) errors.Add($"{p.Name}: {err}");
        });
        if (errors.Count > 0) throw new InvalidOperationException("gcc failed:\n" + string.Join('\n', errors));
        return (dir, programs);
    }
}
