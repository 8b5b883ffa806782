using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Memory;

/// <summary>A protection spelled as /proc/PID/maps spells it: "r-xp", "rw-s".</summary>
public static class ProtectionText
{
    private static readonly string[] Texts = [.. Enumerable.Range(0, 16).Select(i => Build((RegionProtection)i))];

    /// <summary>"r-xp" for read+execute private; bits above Shared are ignored.</summary>
    public static string Of(RegionProtection p) => Texts[(int)p & 15];

    private static string Build(RegionProtection p) => string.Create(4, p, static (span, p) =>
    {
        span[0] = (p & RegionProtection.Read) != 0 ? 'r' : '-';
        span[1] = (p & RegionProtection.Write) != 0 ? 'w' : '-';
        span[2] = (p & RegionProtection.Execute) != 0 ? 'x' : '-';
        span[3] = (p & RegionProtection.Shared) != 0 ? 's' : 'p';
    });
}
