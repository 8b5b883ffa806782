namespace Ether.Replay.Tui.ViewModels;

/// <summary>One step where a thread's code changed unpacking layer (or first ran in a written layer).</summary>
public readonly record struct LayerChange(long Step, int Pid, int Tid, int FromLayer, int ToLayer);

/// <summary>
/// Every layer change of the trace sorted by step, for the next/previous-layer jumps and the inline
/// marks of the instruction list: binary searches, so a jump costs the same on any trace length.
/// </summary>
public sealed class LayerChanges
{
    private readonly long[] _steps;
    private readonly LayerChange[] _changes;

    public static LayerChanges Empty { get; } = new([]);

    public LayerChanges(IEnumerable<LayerChange> changes)
    {
        _changes = changes.OrderBy(c => c.Step).ToArray();
        _steps = _changes.Select(c => c.Step).ToArray();
    }

    public int Count => _changes.Length;

    /// <summary>The first change after <paramref name="step"/>.</summary>
    public LayerChange? After(long step)
    {
        int i = UpperBound(step);
        return i < _changes.Length ? _changes[i] : null;
    }

    /// <summary>The last change before <paramref name="step"/>.</summary>
    public LayerChange? Before(long step)
    {
        int i = LowerBound(step) - 1;
        return i >= 0 ? _changes[i] : null;
    }

    /// <summary>The change at exactly <paramref name="step"/>, if any.</summary>
    public LayerChange? At(long step)
    {
        int i = LowerBound(step);
        return i < _changes.Length && _steps[i] == step ? _changes[i] : null;
    }

    private int LowerBound(long step)
    {
        int i = Array.BinarySearch(_steps, step);
        if (i < 0) return ~i;
        while (i > 0 && _steps[i - 1] == step) i--;
        return i;
    }

    private int UpperBound(long step)
    {
        int i = Array.BinarySearch(_steps, step);
        if (i < 0) return ~i;
        while (i < _steps.Length && _steps[i] == step) i++;
        return i;
    }
}
