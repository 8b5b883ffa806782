using System.Reflection;

namespace Ether.Replay.Analyzer.Query;

/// <summary>The analyses shipped as readable SQL files under analyzer/Sql/ (embedded in the assembly).</summary>
public static class ShippedSql
{
    private const string Prefix = "Ether.Replay.Analyzer.Sql.";

    /// <summary>Names of every shipped file, e.g. "syscalls_summary.sql".</summary>
    public static IEnumerable<string> Names =>
        typeof(ShippedSql).Assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..]).Order();

    public static string Load(string name)
    {
        using var stream = typeof(ShippedSql).Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new ArgumentException($"no shipped SQL named {name}", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
