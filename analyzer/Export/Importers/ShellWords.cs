using System.Text;

namespace Ether.Replay.Analyzer.Export.Importers;

/// <summary>argv as one line a shell would split back into the same words.</summary>
internal static class ShellWords
{
    public static string Join(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    public static string Quote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))) return word;
        var sb = new StringBuilder("'");
        foreach (char c in word)
        {
            if (c == '\'') sb.Append("'\\''");
            else sb.Append(c);
        }
        return sb.Append('\'').ToString();
    }
}
