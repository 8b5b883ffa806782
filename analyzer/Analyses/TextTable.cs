using System.Text;

namespace Ether.Replay.Analyzer.Analyses;

/// <summary>A plain aligned text table for the analysis commands (left or right aligned columns).</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = new();
    private readonly bool[] _right = new bool[headers.Length];

    public TextTable RightAlign(params int[] columns)
    {
        foreach (int c in columns) _right[c] = true;
        return this;
    }

    public void Add(params object?[] cells) => _rows.Add(cells.Select(c => c?.ToString() ?? "-").ToArray());

    public int Count => _rows.Count;

    public void WriteTo(TextWriter output, string indent = "")
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
            for (int i = 0; i < widths.Length && i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        void Line(string[] cells)
        {
            var sb = new StringBuilder(indent);
            for (int i = 0; i < widths.Length; i++)
            {
                string c = i < cells.Length ? cells[i] : "";
                if (i > 0) sb.Append("  ");
                sb.Append(_right[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]));
            }
            output.WriteLine(sb.ToString().TrimEnd());
        }
        Line(headers);
        foreach (var row in _rows) Line(row);
    }
}
