using System.IO.Hashing;
using System.Text;

namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// The id of a trace in a dataset (its hive partition value, <c>trace=&lt;id&gt;</c>): the file's stem,
/// made safe for paths and SQL, plus 8 hex digits of a hash of the header. Readable, stable across
/// re-exports of the same file, and different for two recordings that happen to share a name.
/// </summary>
public static class TraceId
{
    public static string For(string path, TraceHeader header)
    {
        string stem = Path.GetFileName(path);
        if (stem.EndsWith(".etrace", StringComparison.OrdinalIgnoreCase)) stem = stem[..^".etrace".Length];
        var safe = new StringBuilder();
        foreach (char c in stem)
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        if (safe.Length == 0 || !char.IsAsciiLetter(safe[0])) safe.Insert(0, 't');
        if (safe.Length > 48) safe.Length = 48;
        return $"{safe}-{HeaderHash(header):x8}";
    }

    private static uint HeaderHash(TraceHeader h)
    {
        var text = string.Join('\0',
            h.ToolVersion, h.Backend, h.TargetPath, string.Join('\u0001', h.TargetArgv), h.TargetSha256, h.Architecture,
            h.StartTime.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture), h.Host,
            string.Join('\u0001', h.BackendParameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value)));
        return (uint)XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(text));
    }
}
