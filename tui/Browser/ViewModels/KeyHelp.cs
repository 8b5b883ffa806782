namespace Ether.Replay.Tui.ViewModels;

/// <summary>One key (or set of keys) and what it does, where.</summary>
public sealed record KeyBindingHelp(string Where, string Keys, string What);

/// <summary>
/// Every key of the browser, in one place: the help screen (`?` / F1) lists these, docs/tui.md
/// documents the same list, and the status bar shows the most used ones.
/// </summary>
public static class KeyHelp
{
    public const string Anywhere = "anywhere";
    public const string Instructions = "instructions";
    public const string Registers = "registers";
    public const string Memory = "memory";
    public const string Syscalls = "syscalls";
    public const string Layers = "layers";
    public const string Sql = "sql";

    public static IReadOnlyList<KeyBindingHelp> All { get; } =
    [
        new(Anywhere, "? / F1", "this help (Esc closes it)"),
        new(Anywhere, "F2 F3 F4", "focus instructions / registers / memory"),
        new(Anywhere, "F5 F6 F7", "focus syscalls / layers / SQL (the bottom pane shows the one focused)"),
        new(Anywhere, "Tab / Shift+Tab", "next / previous field or list, pane to pane; mouse: click a pane or a row"),
        new(Anywhere, "F8 / z", "zoom the focused pane to the whole screen, again to restore"),
        new(Anywhere, "Ctrl+Left/Right, < >", "move the split between instructions and registers/memory"),
        new(Anywhere, "Ctrl+Up/Down, - +", "move the split between the top panes and the bottom pane"),
        new(Anywhere, "b", "back to where the last jump came from"),
        new(Anywhere, "Esc", "leave a text field / unzoom / close help (never quits)"),
        new(Anywhere, "q / F10 / Ctrl+Q / Ctrl+C", "quit"),
        new(Instructions, "Up Down PgUp PgDn Home End", "move the cursor; the other panes follow it"),
        new(Instructions, "g / : / a digit", "go to a step number (Enter jumps, Esc cancels)"),
        new(Instructions, "n / p", "next / previous execution of the instruction under the cursor"),
        new(Instructions, "s / S", "next / previous system call"),
        new(Instructions, "l / L", "next / previous layer change (unpacking)"),
        new(Registers, "Up Down, Enter", "pick a register; Enter shows the memory it points to"),
        new(Memory, "a / Enter", "type an address: 0x401000, rsp, rbp-0x10 (a register follows the cursor)"),
        new(Memory, "arrows, PgUp PgDn", "move the byte cursor"),
        new(Memory, "w / W", "who wrote this byte last (jump there) / the next write of it"),
        new(Syscalls, "type", "filter as you type (all words must match: open ENOENT)"),
        new(Syscalls, "Down / Up, Enter", "move between filter and list; Enter jumps to the call"),
        new(Layers, "Enter / d", "jump to the layer's first instruction / dump the layer's memory"),
        new(Layers, "o", "jump to the original entry point (the evidence is listed under the layers)"),
        new(Sql, "Enter, Up/Down", "run the query; history in the query line"),
        new(Sql, "Tab, Enter", "to the result grid; Enter jumps to the row's step column"),
    ];

    /// <summary>The help screen's text: one line per key, grouped by where it works.</summary>
    public static string Text()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var group in All.GroupBy(k => k.Where))
        {
            sb.AppendLine(group.Key);
            foreach (var k in group) sb.AppendLine($"  {k.Keys,-28} {k.What}");
        }
        return sb.ToString();
    }
}
