using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>The few /proc files the recorder reads (rarely: at exec, process start and signals).</summary>
internal static class ProcFs
{
    public static string ReadMaps(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/maps"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    public static string ExecutablePath(int pid)
    {
        try { return File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: false)?.ToString() ?? ""; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    public static string[] CommandLine(int pid)
    {
        try
        {
            var bytes = File.ReadAllBytes($"/proc/{pid}/cmdline");
            if (bytes.Length == 0) return [];
            var text = Encoding.UTF8.GetString(bytes).TrimEnd('\0');
            return text.Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>A hex mask line of /proc/PID/status ("SigCgt", "SigIgn", ...), or null.</summary>
    public static ulong? StatusMask(int tid, string field)
    {
        var value = StatusField(tid, field);
        return value is null ? null : Convert.ToUInt64(value, 16);
    }

    private static string? StatusField(int tid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{tid}/status"))
                if (line.StartsWith(field, StringComparison.Ordinal) && line.Length > field.Length && line[field.Length] == ':')
                    return line[(field.Length + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }
}
