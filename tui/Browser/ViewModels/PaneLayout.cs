using System.Drawing;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>The browser's panes. The three bottom panes share one place; the focused one is shown.</summary>
public enum PaneId { Instructions, Registers, Memory, Syscalls, Layers, Sql }

/// <summary>
/// Where each pane goes on a screen of a given size: instructions on the left, registers over memory
/// on the right, one bottom pane (syscalls, layers or SQL) under them, then a message line and the
/// status bar. The splits move in steps of 5 % and never squeeze a pane below a usable size; a zoomed
/// pane takes all the room above the message line. Pure geometry, so it is tested without a terminal.
/// </summary>
public sealed class PaneLayout
{
    public const int MinPercent = 20, MaxPercent = 80, Step = 5;

    /// <summary>Share of the width for the instructions pane.</summary>
    public int LeftPercent { get; private set; } = 55;
    /// <summary>Share of the height (above the message line) for the top panes.</summary>
    public int TopPercent { get; private set; } = 62;
    public PaneId Bottom { get; set; } = PaneId.Syscalls;
    public PaneId? Zoomed { get; private set; }

    public void Widen(int direction) => LeftPercent = Math.Clamp(LeftPercent + direction * Step, MinPercent, MaxPercent);
    public void Heighten(int direction) => TopPercent = Math.Clamp(TopPercent + direction * Step, MinPercent, MaxPercent);

    public void ToggleZoom(PaneId pane) => Zoomed = Zoomed == pane ? null : pane;

    public static bool IsBottom(PaneId pane) => pane is PaneId.Syscalls or PaneId.Layers or PaneId.Sql;

    /// <summary>Rectangles of every pane on a <paramref name="size"/> screen (empty = hidden), the message line and the status bar.</summary>
    public Placement Place(Size size)
    {
        int width = Math.Max(0, size.Width), height = Math.Max(0, size.Height);
        var status = new Rectangle(0, Math.Max(0, height - 1), width, height > 0 ? 1 : 0);
        var message = new Rectangle(0, Math.Max(0, height - 2), width, height > 1 ? 1 : 0);
        int area = Math.Max(0, height - 2);
        var panes = new Dictionary<PaneId, Rectangle>();
        foreach (var p in Enum.GetValues<PaneId>()) panes[p] = Rectangle.Empty;

        if (Zoomed is { } z)
        {
            panes[z] = new Rectangle(0, 0, width, area);
            return new Placement(panes, message, status);
        }

        int top = Split(area, TopPercent, 6, 5);
        int left = Split(width, LeftPercent, 30, 24);
        int registers = Split(top, 60, 4, 4);
        panes[PaneId.Instructions] = new Rectangle(0, 0, left, top);
        panes[PaneId.Registers] = new Rectangle(left, 0, width - left, registers);
        panes[PaneId.Memory] = new Rectangle(left, registers, width - left, top - registers);
        panes[Bottom] = new Rectangle(0, top, width, area - top);
        return new Placement(panes, message, status);
    }

    /// <summary><paramref name="percent"/> of <paramref name="total"/>, leaving at least <paramref name="minFirst"/> and
    /// <paramref name="minSecond"/> to each side when there is room for both.</summary>
    private static int Split(int total, int percent, int minFirst, int minSecond)
    {
        int first = total * percent / 100;
        if (total >= minFirst + minSecond) first = Math.Clamp(first, minFirst, total - minSecond);
        return Math.Clamp(first, 0, total);
    }
}

/// <summary>The result of <see cref="PaneLayout.Place"/>.</summary>
public sealed record Placement(IReadOnlyDictionary<PaneId, Rectangle> Panes, Rectangle Message, Rectangle Status);
