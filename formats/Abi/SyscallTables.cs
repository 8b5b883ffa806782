namespace Ether.Replay.Formats.Abi;

/// <summary>
/// The system-call tables Ether.Replay knows, by ABI name. The tables themselves are generated
/// into SyscallTables.Linux.g.cs (from the kernel headers) and SyscallTables.Nt.g.cs (from the
/// NT CSVs) by generate/generate_tables.py.
/// </summary>
public static partial class SyscallTables
{
    public const string LinuxX86_64Abi = "linux-x86_64";
    public const string LinuxI386Abi = "linux-i386";

    // Built in the static constructor, which runs after every field initializer of all the halves.
    private static readonly Dictionary<string, SyscallTable> ByAbi;
    private static readonly (string Abi, string?[] Names, string Source)[] Generated;

    static SyscallTables()
    {
        Generated = [.. LinuxGenerated, .. NtGenerated];
        ByAbi = new Dictionary<string, SyscallTable>(StringComparer.Ordinal);
        foreach (var (abi, names, source) in Generated)
            ByAbi.Add(abi, new SyscallTable(abi, names, source));
    }

    /// <summary>Every ABI name, in the generator's order (Linux first, then NT builds by age).</summary>
    public static IEnumerable<string> AbiNames => Generated.Select(g => g.Abi);

    /// <summary>The table of an ABI; throws <see cref="ArgumentException"/> for an unknown ABI.</summary>
    public static SyscallTable Find(string abi) =>
        TryFind(abi, out var table)
            ? table
            : throw new ArgumentException(
                $"unknown system-call ABI '{abi}' (known: {string.Join(", ", AbiNames)})", nameof(abi));

    public static bool TryFind(string abi, out SyscallTable table) => ByAbi.TryGetValue(abi, out table!);

    /// <summary>The call's name in the ABI's table; "syscall_N" for an unknown number or ABI (a trace may name an ABI this build does not know).</summary>
    public static string Name(string abi, long number) =>
        TryFind(abi, out var table) ? table.Name(number) : SyscallTable.FallbackName(number);
}
