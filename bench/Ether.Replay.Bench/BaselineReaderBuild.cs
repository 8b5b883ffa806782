using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;

namespace Ether.Replay.Bench;

/// <summary>Why a baseline reader cannot be had (no git, no .git, a shallow clone, a failed build): one line, never a stack trace.</summary>
internal sealed class BaselineUnavailableException(string why) : Exception(why);

/// <summary>
/// Builds the formats project (Ether.Replay.Formats) of an older commit from git history, so `bench format` can decode
/// with the reader users had then (<see cref="BaselineReader"/>) without keeping its source in the tree: that commit's
/// formats/ and the root files its build reads (Directory.Build.props, Directory.Packages.props, and global.json /
/// NuGet.config where the commit has them) are extracted with `git archive` and built with `dotnet build -c Release`,
/// offline from the local NuGet cache. The build is cached per commit under <c>cacheDir</c>: later runs load it at once.
/// </summary>
internal static class BaselineReaderBuild
{
    /// <summary>Part of the cache key: bump it when the build below changes, so older cached builds are not reused.</summary>
    private const int Recipe = 1;

    private static readonly string[] RootFiles = ["Directory.Build.props", "Directory.Packages.props", "global.json", "NuGet.config", "NuGet.Config", "nuget.config"];

    /// <summary>The built Ether.Replay.Formats.dll of <paramref name="revision"/> (its dependencies beside it), building it
    /// first if the cache has none; <paramref name="progress"/> hears about a build. Throws <see cref="BaselineUnavailableException"/>.</summary>
    public static (string Dll, string Commit) Build(string repoRoot, string revision, string cacheDir, Action<string>? progress = null)
    {
        string commit = ResolveCommit(repoRoot, revision);
        string built = Path.Combine(cacheDir, $"formats-{commit}-r{Recipe}");
        string dll = Path.Combine(built, "out", "Ether.Replay.Formats.dll");
        if (File.Exists(dll)) return (dll, commit);

        // Built in a folder of this process's own and renamed when complete: an interrupted or concurrent build never
        // leaves a half-built cache entry, and the loser of a race just uses the winner's.
        Directory.CreateDirectory(cacheDir);
        string work = $"{built}.tmp-{Environment.ProcessId}";
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        try
        {
            progress?.Invoke($"building {revision}'s reader from git history (commit {commit[..12]}, cached in {built}) ...");
            Extract(repoRoot, commit, Path.Combine(work, "src"));
            string project = Directory.GetFiles(Path.Combine(work, "src", "formats"), "*.csproj") is [var one]
                ? one : throw new BaselineUnavailableException($"commit {commit[..12]} has no single formats/*.csproj");
            var sw = Stopwatch.StartNew();
            var (exit, output, _) = Run(Dotnet, ["build", project, "-c", "Release", "-o", Path.Combine(work, "out"), "--nologo", "--disable-build-servers",
                // Plugin layout: Iced, MessagePack, ZstdSharp copied beside the dll (AssemblyDependencyResolver finds them there).
                "-p:EnableDynamicLoading=true",
                // A newer SDK may warn where the old one did not; that must not fail a build that only serves as a baseline.
                "-p:TreatWarningsAsErrors=false", "-p:NuGetAudit=false"], work, BuildEnvironment);
            File.WriteAllText(Path.Combine(work, "build.log"), output);
            if (exit != 0 || !File.Exists(Path.Combine(work, "out", "Ether.Replay.Formats.dll")))
            {
                string log = Path.Combine(cacheDir, $"formats-{commit}-build.log");
                File.WriteAllText(log, output);
                throw new BaselineUnavailableException($"dotnet build of {revision}'s formats/ failed (exit {exit}, log {log}): {FirstError(output)}");
            }
            progress?.Invoke($"built in {sw.Elapsed.TotalSeconds:F1} s");
            try { Directory.Move(work, built); }
            catch (IOException) when (File.Exists(dll)) { } // another process finished the same build first
            return (dll, commit);
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The full hash of <paramref name="revision"/>, or why there is none here.</summary>
    private static string ResolveCommit(string repoRoot, string revision)
    {
        var (exit, output, error) = Git(repoRoot, "rev-parse", "--git-dir");
        if (exit != 0) throw new BaselineUnavailableException($"{repoRoot} is not a git checkout ({FirstLine(error)}): the reader of {revision} is built from git history");
        (exit, output, _) = Git(repoRoot, "rev-parse", "--verify", "--quiet", revision + "^{commit}");
        if (exit == 0) return output.Trim();
        bool shallow = Git(repoRoot, "rev-parse", "--is-shallow-repository").Output.Trim() == "true";
        throw new BaselineUnavailableException(shallow
            ? $"commit {revision} is not in this shallow clone of {repoRoot} (git fetch --unshallow brings the history)"
            : $"there is no commit {revision} in {repoRoot}");
    }

    /// <summary>`git archive` of the commit's formats/ and root build files, unpacked into <paramref name="into"/>.</summary>
    private static void Extract(string repoRoot, string commit, string into)
    {
        var (_, names, _) = Git(repoRoot, "ls-tree", "--name-only", commit);
        var present = names.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (!present.Contains("formats")) throw new BaselineUnavailableException($"commit {commit[..12]} has no formats/ folder");
        Directory.CreateDirectory(into);
        var (exit, _, error) = Run("git", ["-C", repoRoot, "archive", "--format=tar", commit, "formats", .. RootFiles.Where(present.Contains)], repoRoot,
            stdout: tar => TarFile.ExtractToDirectory(tar, into, overwriteFiles: false));
        if (exit != 0) throw new BaselineUnavailableException($"git archive {commit[..12]} failed: {FirstLine(error)}");
    }

    private static (int Exit, string Output, string Error) Git(string repoRoot, params string[] args) => Run("git", ["-C", repoRoot, .. args], repoRoot);

    /// <summary>The SDK's host when the SDK started this process (DOTNET_HOST_PATH: `dotnet test`), the dotnet host running
    /// this process, else the `dotnet` on PATH.</summary>
    private static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>This process's environment without what MSBuild passes to the programs it starts (`dotnet run`, `dotnet test`):
    /// an inherited MSBuildExtensionsPath or MSBUILD_EXE_PATH points the child build at the parent's SDK state.</summary>
    private static void BuildEnvironment(IDictionary<string, string?> env)
    {
        foreach (string key in env.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList()) env.Remove(key);
        env["MSBUILDDISABLENODEREUSE"] = "1"; // no msbuild node left running after the bench
        env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        env["DOTNET_NOLOGO"] = "1";
    }

    /// <summary>Runs a program to its end; its stdout goes to <paramref name="stdout"/> when given (binary), else is returned as text.</summary>
    private static (int Exit, string Output, string Error) Run(string file, string[] args, string workDir,
        Action<IDictionary<string, string?>>? environment = null, Action<Stream>? stdout = null)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        environment?.Invoke(psi.Environment);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new BaselineUnavailableException($"{file} did not start");
        }
        catch (Win32Exception e)
        {
            throw new BaselineUnavailableException($"{file} cannot be run ({e.Message})");
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            string output = "";
            if (stdout != null) stdout(process.StandardOutput.BaseStream);
            else output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new BaselineUnavailableException($"{file} {string.Join(' ', args)} took over 10 minutes");
            }
            return (process.ExitCode, output, error.Result);
        }
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";

    /// <summary>The first compiler or MSBuild error of a build's output, else its last line.</summary>
    private static string FirstError(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.Contains(": error ", StringComparison.Ordinal)) ?? lines.LastOrDefault() ?? "no output";
    }
}
