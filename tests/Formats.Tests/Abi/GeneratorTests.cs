using System.Diagnostics;
using Ether.Replay.Tests.Shared;

namespace Ether.Replay.Formats.Tests.Abi;

public class GeneratorTests
{
    [Fact]
    public async Task Committed_tables_are_what_the_generator_produces_now()
    {
        // Needs python3, gcc, linux-libc-dev and libc6-dev (setup.sh installs them). It catches a hand
        // edit of a .g.cs file and a header update not yet regenerated. The NT tables are compared
        // with their CSVs when the shared data folder is there (a developer machine); a clean clone
        // has no CSVs and the generator says which file it could not check.
        var csvFolder = Path.Combine(RepoPaths.SharedData, "windows-syscalls");
        var script = Path.Combine(RepoPaths.Root, "formats", "Abi", "generate", "generate_tables.py");
        var start = new ProcessStartInfo("python3")
        {
            ArgumentList = { script, csvFolder, "--check" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"generator --check failed: {stderr}{output}");
        Assert.Contains("all checked files are up to date", output);
        if (Directory.Exists(csvFolder))
            Assert.DoesNotContain("not checked", output);
    }
}
