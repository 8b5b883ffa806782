namespace Ether.Replay.Formats.Abi;

/// <summary>
/// Maps the guest names a user gives to <c>--guest</c> (with the guest's word size) to the
/// system-call ABI recorded in the trace.
/// </summary>
public static class GuestAbis
{
    private static readonly (string Guest, int Bits, string Abi)[] Known =
    [
        ("linux", 64, SyscallTables.LinuxX86_64Abi),
        ("linux", 32, SyscallTables.LinuxI386Abi),
        ("winxp-sp2", 32, "nt-winxp-sp2-x86"),
        ("winxp-sp3", 32, "nt-winxp-sp3-x86"),
        ("win7-sp1", 32, "nt-win7-sp1-x86"),
        ("win7-sp1", 64, "nt-win7-sp1-x64"),
        ("win10-1809", 32, "nt-win10-1809-x86"),
        ("win10-1809", 64, "nt-win10-1809-x64"),
        ("win10-22h2", 32, "nt-win10-22h2-x86"),
        ("win10-22h2", 64, "nt-win10-22h2-x64"),
    ];

    /// <summary>The guest names <c>--guest</c> accepts.</summary>
    public static IReadOnlyList<string> GuestNames { get; } = Known.Select(k => k.Guest).Distinct().ToArray();

    /// <summary>
    /// Resolves a guest name (case-insensitive) and word size (32 or 64) to an ABI name;
    /// on failure <paramref name="error"/> is a one-line message for the user.
    /// </summary>
    public static bool TryResolve(string guest, int bits, out string abi, out string error)
    {
        var name = guest.Trim().ToLowerInvariant();
        var sizes = Known.Where(k => k.Guest == name).ToArray();
        abi = "";
        if (sizes.Length == 0)
        {
            error = $"unknown guest '{guest}' (known: {string.Join(", ", GuestNames)})";
            return false;
        }
        var match = sizes.FirstOrDefault(k => k.Bits == bits);
        if (match.Abi is null)
        {
            error = $"guest '{name}' has no {bits}-bit system-call table (available: "
                    + string.Join(", ", sizes.Select(k => $"{k.Bits}-bit")) + ")";
            return false;
        }
        abi = match.Abi;
        error = "";
        return true;
    }
}
