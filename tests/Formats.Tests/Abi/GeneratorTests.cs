using System.Diagnostics;

namespace Ether.Replay.Formats.Tests.Abi;

public class GeneratorTests
{
    [Fact]
    public async Task Committed_tables_are_what_the_generator_produces_now()
    {
        // Needs python3, gcc, linux-libc-dev, libc6-dev and the shared CSVs, all present on this
        // kind of machine; it catches a hand edit of a .g.cs file or a header update not yet
        // regenerated.
        var script = Path.Combine(RepoPaths.Root, "formats", "Abi", "generate", "generate_tables.py");
        var start = new ProcessStartInfo("python3")
        {
            ArgumentList = { script, Path.Combine(RepoPaths.SharedData, "windows-syscalls"), "--check" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"generator --check failed: {stderr}{await stdout}");
    }
}
