namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// A file under /proc, named the way the kernel names an open descriptor on it (the target of
/// /proc/&lt;pid&gt;/fd/&lt;fd&gt;): "/proc/1234/status", "/proc/1234/task/1235/stat", "/proc/uptime".
/// Every path form a program can use to open it — /proc/self, /proc/thread-self, numeric,
/// task/, relative to a directory descriptor, through symlinks — ends up as this one name, which
/// is why descriptors are identified after the open and not by the path the program passed.
/// </summary>
internal readonly record struct ProcFileName(int Pid, int Tid, string Name)
{
    /// <summary>A per-process file (/proc/&lt;pid&gt;/x): <see cref="Pid"/> set, <see cref="Tid"/> 0.</summary>
    public bool IsProcessFile => Pid > 0 && Tid == 0;
    public bool IsTaskFile => Tid > 0;
    /// <summary>A system-wide file (/proc/uptime): no pid.</summary>
    public bool IsSystemFile => Pid == 0;

    /// <summary>The task the file describes: the thread for task files, the process (its leader) otherwise.</summary>
    public int TaskId => Tid > 0 ? Tid : Pid;

    /// <summary>The path the recorder reads to see what the kernel would show now.</summary>
    public string Path => IsSystemFile ? "/proc/" + Name : IsTaskFile ? $"/proc/{Pid}/task/{Tid}/{Name}" : $"/proc/{Pid}/{Name}";

    public override string ToString() => Path;

    /// <summary>Parses a descriptor's target; null for anything that is not a plain file directly
    /// under /proc, /proc/&lt;pid&gt; or /proc/&lt;pid&gt;/task/&lt;tid&gt; (e.g. "/proc/1/fd/3", sockets, other files).</summary>
    public static ProcFileName? Parse(ReadOnlySpan<char> path)
    {
        const string Prefix = "/proc/";
        if (!path.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var rest = path[Prefix.Length..];
        int slash = rest.IndexOf('/');
        if (slash < 0) return IsName(rest) && !IsNumber(rest) ? new ProcFileName(0, 0, rest.ToString()) : null;
        if (!TryNumber(rest[..slash], out int pid)) return null;
        rest = rest[(slash + 1)..];
        if (rest.StartsWith("task/", StringComparison.Ordinal))
        {
            rest = rest[5..];
            slash = rest.IndexOf('/');
            if (slash < 0 || !TryNumber(rest[..slash], out int tid)) return null;
            rest = rest[(slash + 1)..];
            return IsName(rest) ? new ProcFileName(pid, tid, rest.ToString()) : null;
        }
        return IsName(rest) ? new ProcFileName(pid, 0, rest.ToString()) : null;
    }

    private static bool IsName(ReadOnlySpan<char> s) => s.Length > 0 && s.IndexOf('/') < 0;

    private static bool IsNumber(ReadOnlySpan<char> s) => TryNumber(s, out _);

    private static bool TryNumber(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        if (s.Length is 0 or > 10) return false;
        foreach (char c in s)
        {
            if (c is < '0' or > '9') return false;
            value = value * 10 + (c - '0');
        }
        return value > 0;
    }
}
