namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// Which descriptors of which traced process are open on rewritten /proc files. One table per
/// process (threads share their process's descriptors). A process seen for the first time starts
/// with a copy of its parent's table (fork copies descriptors; the entries share the open file
/// and so the offset, as fork does). Exec drops close-on-exec descriptors.
/// Limits (documented in docs/transparency.md): clone(CLONE_FILES) without CLONE_THREAD is
/// treated as a copy; descriptors received over a socket (SCM_RIGHTS) or by pidfd_getfd are not
/// recognised.
/// </summary>
internal sealed class ProcFdTables(Func<int, int> parentOf)
{
    private readonly Dictionary<int, Dictionary<int, ProcDescriptor>> _tables = new();

    /// <summary>The table of <paramref name="pid"/>, null when it has no tracked descriptor (the common case: no allocation).</summary>
    public Dictionary<int, ProcDescriptor>? Find(int pid)
    {
        if (_tables.TryGetValue(pid, out var table)) return table;
        // First sight of this process: it inherited its parent's descriptors (if the parent had any).
        int parent = parentOf(pid);
        if (parent > 0 && parent != pid && _tables.TryGetValue(parent, out var inherited) && inherited.Count > 0)
        {
            table = new Dictionary<int, ProcDescriptor>(inherited);
            _tables[pid] = table;
            return table;
        }
        _tables[pid] = table = new Dictionary<int, ProcDescriptor>();
        return table;
    }

    public ProcDescriptor? Get(int pid, int fd) => Find(pid) is { } t && t.TryGetValue(fd, out var d) ? d : null;

    public void Set(int pid, int fd, ProcDescriptor descriptor) => Find(pid)![fd] = descriptor;

    public void Close(int pid, int fd) => Find(pid)?.Remove(fd);

    /// <summary>close_range(first, last): every tracked descriptor in the range.</summary>
    public void CloseRange(int pid, uint first, uint last, bool cloexecOnly)
    {
        if (Find(pid) is not { Count: > 0 } table) return;
        foreach (var fd in table.Keys.Where(fd => (uint)fd >= first && (uint)fd <= last).ToList())
        {
            if (cloexecOnly) table[fd] = table[fd] with { CloseOnExec = true };
            else table.Remove(fd);
        }
    }

    /// <summary>A successful exec: close-on-exec descriptors are gone.</summary>
    public void Exec(int pid)
    {
        if (Find(pid) is not { Count: > 0 } table) return;
        foreach (var fd in table.Where(e => e.Value.CloseOnExec).Select(e => e.Key).ToList()) table.Remove(fd);
    }

    /// <summary>The process is gone.</summary>
    public void Forget(int pid) => _tables.Remove(pid);
}
