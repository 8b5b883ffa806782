namespace Ether.Replay.Tui.ViewModels;

/// <summary>
/// The syscalls pane: every system call strace-style, filtered as the user types. The filter is a
/// list of words that must all appear (case-insensitive) in the call's line, its step or its thread —
/// "open ENOENT" keeps the failed opens.
/// </summary>
public sealed class SyscallsModel
{
    private IReadOnlyList<SyscallItem> _all = [];

    public bool Loaded { get; private set; }
    public string Filter { get; private set; } = "";
    public IReadOnlyList<SyscallItem> Visible { get; private set; } = [];
    public int Total => _all.Count;

    public void Load(IReadOnlyList<SyscallItem> all)
    {
        _all = all;
        Loaded = true;
        Apply();
    }

    public void SetFilter(string filter)
    {
        if (filter == Filter) return;
        Filter = filter;
        Apply();
    }

    /// <summary>The step to jump to for visible row <paramref name="row"/>.</summary>
    public long? StepOf(int row) => row >= 0 && row < Visible.Count ? Visible[row].Step : null;

    /// <summary>The visible row of the first call at or after <paramref name="step"/> (to follow the cursor).</summary>
    public int RowAtOrAfter(long step)
    {
        int lo = 0, hi = Visible.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Visible[mid].Step < step) lo = mid + 1;
            else hi = mid;
        }
        return Math.Min(lo, Math.Max(0, Visible.Count - 1));
    }

    private void Apply()
    {
        var words = Filter.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            Visible = _all;
            return;
        }
        var kept = new List<SyscallItem>();
        foreach (var item in _all)
        {
            bool all = true;
            foreach (var w in words)
            {
                if (item.Call.Contains(w, StringComparison.OrdinalIgnoreCase)) continue;
                if (long.TryParse(w, out long n) && (item.Step == n || item.Tid == n || item.Pid == n)) continue;
                all = false;
                break;
            }
            if (all) kept.Add(item);
        }
        Visible = kept;
    }
}
