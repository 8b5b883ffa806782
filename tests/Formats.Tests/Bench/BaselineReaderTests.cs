using System.Diagnostics;
using Ether.Replay.Bench;
using Ether.Replay.Formats.Synthetic;

namespace Ether.Replay.Formats.Tests.Bench;

/// <summary>
/// `bench format`'s baseline reader (bench/, compiled in here): the reader of an older commit, built from git history and
/// loaded beside today's. It must decode what today's reader decodes, really be the older code, and when it cannot be had
/// say so in one line instead of failing the bench.
/// </summary>
public class BaselineReaderTests
{
    [Fact]
    public void The_reader_of_97cc4a6_built_from_history_decodes_a_version_1_trace_to_todays_counts_and_refuses_version_2()
    {
        using var dir = new TempDir();
        string v1 = Write(dir.File("v1.etrace"), predict: false), v2 = Write(dir.File("v2.etrace"), predict: true);
        var said = new List<string>();

        // A fresh cache: the test builds the commit's formats/ itself (5 s on an idle machine), as a clean clone would.
        var sw = Stopwatch.StartNew();
        var baseline = BaselineReader.TryOpen(RepoPaths.Root, "97cc4a6", dir.File("cache"), said.Add);
        Assert.True(baseline != null, string.Join(" | ", said));
        Assert.StartsWith("97cc4a6", baseline.Commit);
        Assert.StartsWith(dir.Path, baseline.Location);
        Assert.Contains(said, s => s.StartsWith("building 97cc4a6's reader from git history", StringComparison.Ordinal));
        Console.WriteLine($"built and loaded 97cc4a6's reader in {sw.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(Counts(v1), baseline.Decode(v1));
        // It is the reader from before version 2: it does not know that version (today's assembly would read it).
        var refused = Assert.ThrowsAny<Exception>(() => baseline.Decode(v2));
        Assert.NotEqual(typeof(TraceReader).Assembly, refused.GetType().Assembly);
        Assert.Contains("version", refused.Message, StringComparison.OrdinalIgnoreCase);

        // A second open takes the cached build.
        said.Clear();
        Assert.NotNull(BaselineReader.TryOpen(RepoPaths.Root, "97cc4a6", dir.File("cache"), said.Add));
        Assert.Empty(said);
    }

    [Fact]
    public void The_loader_pointed_at_a_formats_build_decodes_with_that_build_to_the_same_counts()
    {
        using var dir = new TempDir();
        string v2 = Write(dir.File("v2.etrace"), predict: true);
        // Today's build (the copy beside this test, with Iced, MessagePack and ZstdSharp): loaded a second time, in its own context.
        var other = BaselineReader.Load(typeof(TraceReader).Assembly.Location);
        Assert.Equal(Counts(v2), other.Decode(v2));
        Assert.InRange(other.CallNanoseconds(10_000), 0.1, 100_000);
    }

    [Fact]
    public void A_revision_that_is_not_there_is_one_line_and_no_reader()
    {
        using var dir = new TempDir();
        var said = new List<string>();
        Assert.Null(BaselineReader.TryOpen(RepoPaths.Root, "no-such-revision-0bad", dir.File("cache"), said.Add));
        Assert.Equal([$"baseline reader unavailable: there is no commit no-such-revision-0bad in {RepoPaths.Root}"], said);
    }

    [Fact]
    public void A_checkout_without_git_history_is_one_line_and_no_reader()
    {
        using var dir = new TempDir();
        var said = new List<string>();
        // A tarball of the source: no .git at all.
        Assert.Null(BaselineReader.TryOpen(dir.Path, "97cc4a6", dir.File("cache"), said.Add));
        Assert.Single(said);
        Assert.StartsWith($"baseline reader unavailable: {dir.Path} is not a git checkout", said[0]);

        // A shallow clone: git is there, the commit is not.
        said.Clear();
        string clone = dir.File("shallow");
        var git = Process.Start(new ProcessStartInfo("git", ["clone", "-q", "--depth", "1", "file://" + RepoPaths.Root, clone]) { RedirectStandardError = true })!;
        string error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, error);
        Assert.Null(BaselineReader.TryOpen(clone, "97cc4a6", dir.File("cache"), said.Add));
        Assert.Equal([$"baseline reader unavailable: commit 97cc4a6 is not in this shallow clone of {clone} (git fetch --unshallow brings the history)"], said);
    }

    /// <summary>A small synthetic trace (registers, writes, system calls, two threads, ~20 chunks) of the given format version.</summary>
    private static string Write(string path, bool predict)
    {
        using var w = TraceWriter.Create(path, new TraceHeader { Backend = "synthetic" },
            new TraceWriterOptions { ChunkSteps = 1_000, ChunkAge = TimeSpan.FromHours(1), PredictRegisters = predict });
        SyntheticTrace.Write(w, new SyntheticOptions { Instructions = 20_000, SyscallEvery = 700, Threads = 2 });
        w.Close(StopReason.Exited);
        return path;
    }

    /// <summary>Instructions and register changes today's reader decodes.</summary>
    private static (long Instructions, long RegisterChanges) Counts(string path)
    {
        using var reader = TraceReader.Open(path);
        var chunk = new DecodedChunk();
        long instructions = 0, registerChanges = 0;
        for (int i = 0; i < reader.Chunks.Count; i++)
        {
            reader.ReadChunk(i, chunk);
            instructions += chunk.InstructionCount;
            registerChanges += chunk.RegisterChangeCount;
        }
        Assert.True(instructions >= 20_000 && registerChanges > 1_000, $"{instructions} instructions, {registerChanges} register changes");
        return (instructions, registerChanges);
    }
}
