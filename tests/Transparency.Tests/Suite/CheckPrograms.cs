using System.Diagnostics;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>The programs of Checks/ (not techniques: they print what they saw, for tests that compare it with the trace), built on demand.</summary>
internal static class CheckPrograms
{
    private static readonly Dictionary<string, string> Built = new();
    private static readonly object Gate = new();

    public static string Build(string name)
    {
        lock (Gate)
        {
            if (Built.TryGetValue(name, out var done)) return done;
            string source = Path.Combine(AppContext.BaseDirectory, "Checks", name + ".c");
            var program = new SuiteProgram(name, source, ProgramKind.Freestanding);
            string output = Path.Combine(SuiteBuild.Directory, name);
            var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true };
            foreach (var a in program.GccArguments(output)) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("-I" + SuiteBuild.SourceDirectory);
            using var gcc = Process.Start(psi)!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc {name}: {errors}");
            return Built[name] = output;
        }
    }
}
