using Ether.Replay.Analyzer.Query;
using Ether.Replay.Formats.Log;

namespace Ether.Replay.Cli;

/// <summary>
/// What every subcommand shares: failures become one line on stderr and a non-zero exit code,
/// never a stack trace (a hostile trace or sample is normal input here). <see cref="Describe"/> is the
/// one map from a failure to what the user reads.
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
        catch (Exception e)
        {
            Error(Describe(e));
            return Failed;
        }
    }

    public static void Error(string message) => Console.Error.WriteLine($"ether: {message}");
    public static void Warn(string message) => Console.Error.WriteLine($"ether: warning: {OneLine(message)}");

    /// <summary>The one line a failure shows: the message of a failure the user caused or can fix
    /// (bad input, a missing file, SQL DuckDB refused, a damaged trace), else "internal error ... (please report this)".</summary>
    public static string Describe(Exception e) => e switch
    {
        CliException c => c.Message,
        AnalysisInputException a => OneLine(a.Message),
        SqlException s => s.Message,
        TraceFormatException t => t.Message,
        FileNotFoundException f => f.FileName is { } name && !f.Message.StartsWith(name, StringComparison.Ordinal) ? $"{name}: no such file" : OneLine(f.Message),
        DirectoryNotFoundException d => OneLine(d.Message),
        InvalidDataException d => OneLine(d.Message),
        UnauthorizedAccessException u => $"permission denied: {OneLine(u.Message)}",
        IOException io => OneLine(io.Message),
        OperationCanceledException => "interrupted",
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerExceptions[0]),
        _ => $"internal error: {e.GetType().Name}: {OneLine(e.Message)} (please report this)",
    };

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    /// <summary>Opens a trace, turning a missing path into a clear message.</summary>
    public static TraceReader OpenTrace(string path) => TraceReader.Open(ExistingFile(path));

    /// <summary><paramref name="path"/> when it is a file; a clear message when it is missing or a folder.</summary>
    public static string ExistingFile(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not a trace file");
        if (!File.Exists(path)) throw new CliException($"{path}: no such file");
        return path;
    }
}

/// <summary>A failure whose message is already what the user should read.</summary>
public sealed class CliException(string message) : Exception(message);
