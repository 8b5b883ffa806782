namespace Ether.Replay.Tests.Shared;

/// <summary>Where the repository and the shared data folder are, found from the test binary.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The shared data folder the generator reads by default (../shared/data).</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ether.Replay.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Ether.Replay.sln not found above " + AppContext.BaseDirectory);
    }
}
