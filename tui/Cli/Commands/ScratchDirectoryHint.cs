using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Cli.Commands;

/// <summary>
/// The program runs in a fresh scratch directory unless --cwd says otherwise, so an argument such
/// as `in.txt` names a file the program cannot see. A new user reads the program's "No such file"
/// as a recorder fault; this names the cause after the summary: which relative arguments exist in
/// the user's own directory, and the option that runs the program there.
/// </summary>
public static class ScratchDirectoryHint
{
    /// <summary>The hint line, or null when the program did not run in a scratch directory or no
    /// relative argument names something in <paramref name="userDirectory"/>.</summary>
    public static string? For(IReadOnlyList<string> arguments, WorkingDirectoryFate fate, string userDirectory)
    {
        if (fate is not (WorkingDirectoryFate.Removed or WorkingDirectoryFate.Kept)) return null;
        var seen = arguments.Where(a => IsRelativePath(a) && Exists(Path.Combine(userDirectory, a))).Distinct().Take(3).ToList();
        if (seen.Count == 0) return null;
        string names = string.Join(", ", seen);
        return $"hint: {names} {(seen.Count == 1 ? "is a relative path" : "are relative paths")} in {userDirectory}, " +
               "but the program ran in a scratch directory; give absolute paths or add --cwd . to run it here";
    }

    private static bool IsRelativePath(string argument) =>
        argument.Length > 0 && argument[0] != '-' && !Path.IsPathRooted(argument) && !argument.Contains('\0');

    private static bool Exists(string path)
    {
        try { return File.Exists(path) || Directory.Exists(path); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
