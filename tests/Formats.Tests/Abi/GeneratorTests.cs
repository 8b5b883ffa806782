using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Ether.Replay.Formats.Tests.Abi;

public class GeneratorTests
{
    private static readonly string AbiFolder = Path.Combine(RepoPaths.Root, "formats", "Abi");

    [Fact]
    public async Task Committed_tables_are_what_the_generator_produces_now()
    {
        // Needs python3, gcc, linux-libc-dev and libc6-dev (setup.sh installs them). It catches a hand
        // edit of a .g.cs file and a header update not yet regenerated. Everything it reads besides the
        // Debian headers is in the repository (the NT CSVs are in generate/windows-syscalls/).
        var script = Path.Combine(AbiFolder, "generate", "generate_tables.py");
        var start = new ProcessStartInfo("python3")
        {
            ArgumentList = { script, "--check" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"generator --check failed: {stderr}{output}");
        Assert.Contains("all generated files are up to date", output);
    }

    [Fact]
    public void Generated_files_do_not_name_package_versions()
    {
        // A Debian point release (linux-libc-dev 6.1.187-1 -> 6.1.188-1) changes no definition; were
        // its version in a file, the up-to-date test above would fail on every machine that upgraded.
        var files = Directory.GetFiles(AbiFolder, "*.g.cs");
        Assert.True(files.Length >= 5);
        var version = new Regex(@"\d+\.\d+(\.\d+)?-\d|deb\d+u\d+");
        foreach (var file in files)
        {
            var match = version.Match(File.ReadAllText(file));
            Assert.False(match.Success, $"{Path.GetFileName(file)} names a package version: '{match.Value}'");
        }
    }

    [Fact]
    public void The_nt_csvs_are_in_the_repository()
    {
        var folder = Path.Combine(AbiFolder, "generate", "windows-syscalls");
        Assert.Equal(8, Directory.GetFiles(folder, "*.csv").Length);
        Assert.True(File.Exists(Path.Combine(folder, "README.md")));
    }
}
