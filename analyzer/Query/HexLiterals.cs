using System.Text;

namespace Ether.Replay.Analyzer.Query;

/// <summary>
/// DuckDB reads <c>0x401000</c> as the number 0 aliased "x401000" — silently wrong for the addresses
/// analysts type all day. Before a user's SQL runs, every hex literal outside strings, quoted names
/// and comments becomes <c>'0x401000'::UBIGINT</c>, which DuckDB does parse as hex.
/// </summary>
public static class HexLiterals
{
    public static string Rewrite(string sql)
    {
        var sb = new StringBuilder(sql.Length + 16);
        int i = 0;
        while (i < sql.Length)
        {
            char c = sql[i];
            if (c == '\'' || c == '"')
            {
                int end = i + 1;
                while (end < sql.Length)
                {
                    if (sql[end] == c)
                    {
                        if (end + 1 < sql.Length && sql[end + 1] == c) { end += 2; continue; } // doubled quote
                        break;
                    }
                    end++;
                }
                end = Math.Min(end + 1, sql.Length);
                sb.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                int end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length : end;
                sb.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                int end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? sql.Length : end + 2;
                sb.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '0' && i + 2 < sql.Length && (sql[i + 1] == 'x' || sql[i + 1] == 'X') && Uri.IsHexDigit(sql[i + 2])
                     && (i == 0 || !IsWordChar(sql[i - 1])))
            {
                int end = i + 2;
                while (end < sql.Length && Uri.IsHexDigit(sql[end])) end++;
                if (end < sql.Length && IsWordChar(sql[end]))
                {
                    sb.Append(sql, i, end - i); // part of a name like 0x1g: leave it to DuckDB
                }
                else
                {
                    sb.Append('\'').Append(sql, i, end - i).Append("'::UBIGINT");
                }
                i = end;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_' || c == '$' || c == '.';
}
