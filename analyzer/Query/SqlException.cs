namespace Ether.Replay.Analyzer.Query;

/// <summary>A query DuckDB refused or failed, with its message reduced to one line.</summary>
public sealed class SqlException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>DuckDB's message without the "LINE n:" excerpt and caret, lines joined.</summary>
    public static string OneLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("LINE ", StringComparison.Ordinal) && l.Trim('^', ' ').Length > 0);
        return string.Join(" ", lines);
    }
}
