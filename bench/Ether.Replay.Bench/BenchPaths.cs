namespace Ether.Replay.Bench;

/// <summary>The checkout this bench was built from (the folder holding Ether.Replay.sln), found upwards
/// from the bench's binaries and from the current directory.</summary>
internal static class BenchPaths
{
    public static string? RepoRoot { get; } = Find();

    private static string? Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Ether.Replay.sln"))) return dir.FullName;
        return null;
    }
}
