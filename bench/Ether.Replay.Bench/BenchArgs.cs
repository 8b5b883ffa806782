using System.Globalization;

namespace Ether.Replay.Bench;

/// <summary>
/// A benchmark's options: the <c>--flag</c>s, <c>--name NUMBER</c>s and <c>--name TEXT</c>s it knows,
/// in any order, and at most one bare number where the bench takes one (<c>format [N]</c>). Anything
/// else (an unknown option, a missing or malformed value) is one line on stderr, "bench NAME: ...",
/// and exit code 2, the same for every bench.
/// </summary>
internal sealed class BenchArgs
{
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _numbers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);
    private long? _bare;

    private BenchArgs() { }

    /// <summary>Parses <paramref name="args"/>; on an error prints it and returns false (the bench exits 2).</summary>
    public static bool TryParse(string bench, string[] args, out BenchArgs parsed,
        string[]? flags = null, string[]? numbers = null, string[]? texts = null, bool bareNumber = false)
    {
        parsed = new BenchArgs();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            bool numeric = numbers?.Contains(a) == true, text = texts?.Contains(a) == true;
            if (flags?.Contains(a) == true) parsed._flags.Add(a);
            else if ((numeric || text) && i + 1 == args.Length) return Fail(bench, $"{a} needs a value");
            else if (text) parsed._texts[a] = args[++i];
            else if (numeric)
            {
                if (!TryNumber(args[++i], out long n)) return Fail(bench, $"{a} takes a whole number, not {args[i]}");
                parsed._numbers[a] = n;
            }
            else if (bareNumber && parsed._bare == null && TryNumber(a, out long bare)) parsed._bare = bare;
            else return Fail(bench, $"unknown option {a}");
        }
        return true;
    }

    private static bool TryNumber(string s, out long n) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out n);

    private static bool Fail(string bench, string message)
    {
        Console.Error.WriteLine($"bench {bench}: {message}");
        return false;
    }

    public bool Has(string flag) => _flags.Contains(flag);

    public long Number(string name, long fallback) => _numbers.TryGetValue(name, out long n) ? n : fallback;

    public string? Text(string name) => _texts.GetValueOrDefault(name);

    /// <summary>The bare number, when the bench takes one and it was given.</summary>
    public long Bare(long fallback) => _bare ?? fallback;
}
