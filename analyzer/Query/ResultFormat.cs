using System.Collections;
using System.Data.Common;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Ether.Replay.Analyzer.Query;

/// <summary>How `ether sql` prints a result.</summary>
public enum ResultFormat { Table, Csv, Json }

/// <summary>
/// Prints a query result as an aligned table (numbers right-aligned, NULL spelled out, long cells
/// cut), as CSV (RFC 4180) or as a JSON array of objects. BLOBs print as lowercase hex.
/// </summary>
public static class ResultPrinter
{
    /// <summary>Table output sizes its columns from the first rows; later rows keep those widths.</summary>
    private const int SizingRows = 2000;
    public const int MaxCellWidth = 100;

    public static long Print(DbDataReader reader, TextWriter output, ResultFormat format)
    {
        return format switch
        {
            ResultFormat.Csv => Csv(reader, output),
            ResultFormat.Json => Json(reader, output),
            _ => Table(reader, output),
        };
    }

    /// <summary>A value as text: the same in every format (hex for bytes, ISO 8601 for times).</summary>
    public static string? Text(object? value) => value switch
    {
        null or DBNull => null,
        Stream s => Convert.ToHexString(((byte[])AnalysisDatabase.Materialize(s))).ToLowerInvariant(),
        byte[] b => Convert.ToHexString(b).ToLowerInvariant(),
        bool b => b ? "true" : "false",
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFzzz", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        string s => s,
        IDictionary d => "{" + string.Join(", ", d.Keys.Cast<object>().Select(k => $"{Text(k)}: {Text(d[k])}")) + "}",
        IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(v => Text(v) ?? "NULL")) + "]",
        _ => value.ToString(),
    };

    private static bool IsNumber(Type t) =>
        t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(sbyte) || t == typeof(ulong) || t == typeof(uint)
        || t == typeof(ushort) || t == typeof(byte) || t == typeof(double) || t == typeof(float) || t == typeof(decimal) || t == typeof(BigInteger);

    private static long Table(DbDataReader reader, TextWriter output)
    {
        int n = reader.FieldCount;
        if (n == 0) return 0;
        var names = Enumerable.Range(0, n).Select(reader.GetName).ToArray();
        var right = Enumerable.Range(0, n).Select(i => IsNumber(reader.GetFieldType(i))).ToArray();
        var widths = names.Select(h => Math.Min(MaxCellWidth, h.Length)).ToArray();
        var buffered = new List<string[]>();
        long rows = 0;
        bool more;
        while ((more = AnalysisDatabase.Read(reader)) && buffered.Count < SizingRows)
        {
            var cells = Cells(reader, n);
            for (int i = 0; i < n; i++) widths[i] = Math.Max(widths[i], Math.Min(MaxCellWidth, cells[i].Length));
            buffered.Add(cells);
        }
        void Line(string[] cells)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < n; i++)
            {
                string c = cells[i].Length > MaxCellWidth ? cells[i][..(MaxCellWidth - 1)] + "…" : cells[i];
                if (i > 0) sb.Append("  ");
                sb.Append(right[i] ? c.PadLeft(widths[i]) : i == n - 1 ? c : c.PadRight(widths[i]));
            }
            output.WriteLine(sb.ToString().TrimEnd());
        }
        Line(names);
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var cells in buffered) { Line(cells); rows++; }
        while (more)
        {
            Line(Cells(reader, n));
            rows++;
            more = AnalysisDatabase.Read(reader);
        }
        output.WriteLine($"({rows:N0} row{(rows == 1 ? "" : "s")})");
        return rows;
    }

    private static string[] Cells(DbDataReader reader, int n)
    {
        var cells = new string[n];
        for (int i = 0; i < n; i++)
        {
            string text = reader.IsDBNull(i) ? "NULL" : Text(reader.GetValue(i)) ?? "NULL";
            cells[i] = text.Replace("\n", "\\n").Replace("\t", "\\t");
        }
        return cells;
    }

    private static long Csv(DbDataReader reader, TextWriter output)
    {
        int n = reader.FieldCount;
        if (n == 0) return 0;
        static string Quote(string s) =>
            s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
        output.WriteLine(string.Join(",", Enumerable.Range(0, n).Select(i => Quote(reader.GetName(i)))));
        long rows = 0;
        while (AnalysisDatabase.Read(reader))
        {
            var cells = new string[n];
            for (int i = 0; i < n; i++) cells[i] = reader.IsDBNull(i) ? "" : Quote(Text(reader.GetValue(i)) ?? "");
            output.WriteLine(string.Join(",", cells));
            rows++;
        }
        return rows;
    }

    private static long Json(DbDataReader reader, TextWriter output)
    {
        int n = reader.FieldCount;
        var names = Enumerable.Range(0, n).Select(reader.GetName).ToArray();
        long rows = 0;
        output.Write('[');
        using var buffer = new MemoryStream();
        while (AnalysisDatabase.Read(reader))
        {
            buffer.SetLength(0);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                for (int i = 0; i < n; i++)
                {
                    json.WritePropertyName(names[i]);
                    WriteJson(json, reader.IsDBNull(i) ? null : reader.GetValue(i));
                }
                json.WriteEndObject();
            }
            output.Write(rows == 0 ? "\n" : ",\n");
            output.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            rows++;
        }
        output.WriteLine(rows == 0 ? "]" : "\n]");
        return rows;
    }

    private static void WriteJson(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null or DBNull: json.WriteNullValue(); break;
            case bool b: json.WriteBooleanValue(b); break;
            case long v: json.WriteNumberValue(v); break;
            case int v: json.WriteNumberValue(v); break;
            case short v: json.WriteNumberValue(v); break;
            case sbyte v: json.WriteNumberValue(v); break;
            case ulong v: json.WriteNumberValue(v); break;
            case uint v: json.WriteNumberValue(v); break;
            case ushort v: json.WriteNumberValue(v); break;
            case byte v: json.WriteNumberValue(v); break;
            case double v when double.IsFinite(v): json.WriteNumberValue(v); break;
            case float v when float.IsFinite(v): json.WriteNumberValue(v); break;
            case decimal v: json.WriteNumberValue(v); break;
            case BigInteger v: json.WriteRawValue(v.ToString(CultureInfo.InvariantCulture)); break;
            case string s: json.WriteStringValue(s); break;
            case IDictionary d:
                json.WriteStartObject();
                foreach (var k in d.Keys) { json.WritePropertyName(Text(k) ?? ""); WriteJson(json, d[k]); }
                json.WriteEndObject();
                break;
            case IEnumerable e and not Stream and not byte[]:
                json.WriteStartArray();
                foreach (var item in e) WriteJson(json, item);
                json.WriteEndArray();
                break;
            default: json.WriteStringValue(Text(value)); break;
        }
    }
}
