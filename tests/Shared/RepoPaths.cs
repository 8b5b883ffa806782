namespace Ether.Replay.Tests.Shared;

/// <summary>Where the repository is, found from the test binary.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ether.Replay.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Ether.Replay.sln not found above " + AppContext.BaseDirectory);
    }
}
