using System.Diagnostics;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>A writer process killed with SIGKILL mid-recording leaves a file whose complete chunks all read back.</summary>
public class CrashRecoveryTests
{
    [Theory]
    [InlineData(150)]
    [InlineData(400)]
    [InlineData(900)]
    public void A_writer_killed_at_any_moment_leaves_a_readable_prefix(int killAfterMs)
    {
        using var temp = new TempDir();
        string dir = temp.Path;
        string path = Path.Combine(dir, "victim.etrace");
        string child = Path.Combine(AppContext.BaseDirectory, "Ether.Replay.WriterChild.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet") { ArgumentList = { child, path }, UseShellExecute = false })!;
        // Wait until the child has written a few chunks, then kill it without warning.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((!File.Exists(path) || new FileInfo(path).Length < 20_000) && DateTime.UtcNow < deadline && !process.HasExited) Thread.Sleep(10);
        Thread.Sleep(killAfterMs);
        process.Kill();
        process.WaitForExit();

        using var reader = TraceReader.Open(path);
        var s = reader.Summary;
        Assert.False(s.ClosedCleanly);
        Assert.Equal(StopReason.Unknown, s.StopReason);
        Assert.True(s.Chunks.Count >= 2, $"only {s.Chunks.Count} chunks recovered");
        // Every recovered chunk decodes and the instruction steps run 1..LastStep without a gap.
        long expected = 0;
        var chunk = new DecodedChunk();
        for (int i = 0; i < reader.Chunks.Count; i++)
        {
            reader.ReadChunk(i, chunk);
            for (int k = 0; k < chunk.InstructionCount; k++) Assert.Equal(++expected, chunk.InstructionStep[k]);
        }
        Assert.Equal(s.LastStep, expected);
        Assert.Equal(s.Count(EventKind.Instruction), expected);
        // Whatever is after the last whole chunk is at most one torn frame.
        Assert.True(s.Damage == null || s.Damage.Contains("ends inside the frame"), s.Damage);
    }
}
