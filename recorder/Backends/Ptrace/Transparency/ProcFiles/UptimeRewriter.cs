using System.Globalization;
using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// /proc/uptime in virtual time: "uptime idle" (seconds, two decimals). The uptime is virtual
/// CLOCK_BOOTTIME; idle time (summed over CPUs) is the kernel's at the start of the recording plus
/// the virtual time that passed on every CPU but one (the program's), so it stays below uptime × CPUs.
/// </summary>
internal sealed class UptimeRewriter(Func<long> boottimeNs, Func<long> elapsedNs, int cpus) : IProcFileRewriter
{
    private double? _idleAtStart;

    public bool Wants(ProcFileName file) => file.IsSystemFile && file.Name == "uptime";

    public byte[] Rewrite(ProcFileName file, byte[] original, ProcReader reader)
    {
        var parts = Encoding.ASCII.GetString(original).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double idle)
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double up))
            return original;
        if (_idleAtStart is null)
        {
            // The kernel's figures now, taken back to the start of virtual time.
            double realElapsed = Math.Max(0, up - boottimeNs() / 1e9 + elapsedNs() / 1e9);
            _idleAtStart = Math.Max(0, idle - realElapsed * Math.Max(0, cpus - 1));
        }
        double uptime = boottimeNs() / 1e9;
        double virtualIdle = _idleAtStart.Value + elapsedNs() / 1e9 * Math.Max(0, cpus - 1);
        return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{uptime:F2} {virtualIdle:F2}\n"));
    }
}
