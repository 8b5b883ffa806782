using System.Diagnostics;

namespace Ether.Replay.Tests.Shared;

/// <summary>Runs the real `ether` command (built next to the tests) and captures what it prints.</summary>
internal static class EtherProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static string EtherDll => Path.Combine(AppContext.BaseDirectory, "ether.dll");

    public static Result Run(string workingDirectory, params string[] args) => Run(workingDirectory, TimeSpan.FromMinutes(3), args);

    public static Result Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(EtherDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"ether {string.Join(' ', args)} did not finish in {timeout}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs any program (gcc, a recorded or dumped binary).</summary>
    public static Result Exec(string workingDirectory, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A failure is one line on stderr starting "ether:", never a stack trace.</summary>
    public static void AssertCleanFailure(Result r, string expectedFragment)
    {
        Assert.True(r.ExitCode != 0, r.ToString());
        var lines = r.StderrLines;
        Assert.True(lines.Length == 1, $"expected one line on stderr:\n{r}");
        Assert.StartsWith("ether: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
    }
}
