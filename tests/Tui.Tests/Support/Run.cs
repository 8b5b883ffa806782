using System.Diagnostics;

namespace Ether.Replay.Tui.Tests.Support;

/// <summary>Runs a program to completion and captures what it prints.</summary>
internal static class Run
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    /// <summary>The real `ether` command, built next to the tests.</summary>
    public static string EtherDll => Path.Combine(AppContext.BaseDirectory, "ether.dll");

    public static Result Ether(string directory, params string[] args) => Program(directory, "dotnet", [EtherDll, .. args]);

    public static Result Program(string directory, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 3 minutes");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
