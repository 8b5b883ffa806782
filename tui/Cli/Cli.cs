using Ether.Replay.Formats.Log;

namespace Ether.Replay.Cli;

/// <summary>
/// What every subcommand shares: failures become one line on stderr and a non-zero exit code,
/// never a stack trace (a hostile trace or sample is normal input here).
/// </summary>
public static class Cli
{
    public const int Ok = 0;
    public const int Failed = 1;

    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Error(message);
            return Failed;
        }
    }

    public static void Error(string message) => Console.Error.WriteLine($"ether: {message}");
    public static void Warn(string message) => Console.Error.WriteLine($"ether: warning: {message}");

    private static string? Describe(Exception e) => e switch
    {
        CliException c => c.Message,
        TraceFormatException t => t.Message,
        FileNotFoundException f => $"{f.FileName ?? "file"}: no such file",
        DirectoryNotFoundException d => OneLine(d.Message),
        UnauthorizedAccessException u => $"permission denied: {OneLine(u.Message)}",
        IOException io => OneLine(io.Message),
        OperationCanceledException => "interrupted",
        _ => $"internal error: {e.GetType().Name}: {OneLine(e.Message)} (please report this)",
    };

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    /// <summary>Opens a trace, turning a missing path into a clear message.</summary>
    public static TraceReader OpenTrace(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not a trace file");
        if (!File.Exists(path)) throw new CliException($"{path}: no such file");
        return TraceReader.Open(path);
    }
}

/// <summary>A failure whose message is already what the user should read.</summary>
public sealed class CliException(string message) : Exception(message);
