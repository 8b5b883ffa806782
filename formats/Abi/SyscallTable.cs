namespace Ether.Replay.Formats.Abi;

/// <summary>
/// Number-to-name table of one system-call ABI ("linux-x86_64", "nt-winxp-sp2-x86", ...).
/// Unknown numbers get the name "syscall_N", which <see cref="TryGetNumber"/> also accepts, so a
/// name printed anywhere always maps back to its number.
/// </summary>
public sealed class SyscallTable
{
    private const string FallbackPrefix = "syscall_";
    private readonly string?[] _names;
    private readonly Dictionary<string, long> _numbers;

    internal SyscallTable(string abi, string?[] names, string source)
    {
        Abi = abi;
        Source = source;
        _names = names;
        _numbers = new Dictionary<string, long>(names.Length, StringComparer.Ordinal);
        for (var number = 0; number < names.Length; number++)
            if (names[number] is { } name)
                _numbers.Add(name, number);
    }

    /// <summary>The ABI name used in trace events and SQL.</summary>
    public string Abi { get; }

    /// <summary>Where the numbers come from (header or CSV and its version).</summary>
    public string Source { get; }

    /// <summary>Number of named calls.</summary>
    public int Count => _numbers.Count;

    /// <summary>The highest number the table names.</summary>
    public long MaxNumber => _names.Length - 1;

    /// <summary>The call's name, or "syscall_N" for a number the table does not know.</summary>
    public string Name(long number) => TryGetName(number, out var name) ? name : FallbackName(number);

    /// <summary>"syscall_N": the name of a number no table knows.</summary>
    public static string FallbackName(long number) => FallbackPrefix + number;

    public bool TryGetName(long number, out string name)
    {
        if (number >= 0 && number < _names.Length && _names[number] is { } known)
        {
            name = known;
            return true;
        }
        name = "";
        return false;
    }

    /// <summary>Number of a call name; also accepts the "syscall_N" fallback names.</summary>
    public bool TryGetNumber(string name, out long number)
    {
        if (_numbers.TryGetValue(name, out number))
            return true;
        if (name.StartsWith(FallbackPrefix, StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(FallbackPrefix.Length), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out number)
            && !TryGetName(number, out _))
            return true;
        number = -1;
        return false;
    }

    /// <summary>Every (number, name) pair the table knows, by number.</summary>
    public IEnumerable<(long Number, string Name)> Entries()
    {
        for (var number = 0; number < _names.Length; number++)
            if (_names[number] is { } name)
                yield return (number, name);
    }
}
