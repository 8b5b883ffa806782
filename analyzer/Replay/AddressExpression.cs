using System.Globalization;

namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// What the user types to pick memory: a number ("0x401000", "4198400"), a register ("rsp"), or a
/// register plus or minus a number ("rbp-0x10", "rsi+8"), as `ether at --mem` and the browser's memory
/// pane take it. A register makes the browser's memory view follow it from step to step.
/// </summary>
public sealed record AddressExpression(string Text, int? Register, long Offset)
{
    public bool FollowsRegister => Register != null;

    public static bool TryParse(string text, out AddressExpression? expression, out string? error)
    {
        expression = null;
        error = null;
        string t = text.Trim().ToLowerInvariant().Replace(" ", "");
        if (t.Length == 0)
        {
            error = "type an address (0x401000), a register (rsp) or a register and offset (rbp-0x10)";
            return false;
        }
        int split = t.IndexOfAny(['+', '-'], 1);
        string head = split < 0 ? t : t[..split];
        int slot = Array.IndexOf(Registers.Names, head);
        if (slot >= 0)
        {
            long offset = 0;
            if (split >= 0)
            {
                if (!TryNumber(t[(split + 1)..], out ulong n) || n > long.MaxValue)
                {
                    error = $"{text}: the offset after {head} must be a number (hex with 0x)";
                    return false;
                }
                offset = t[split] == '-' ? -(long)n : (long)n;
            }
            expression = new AddressExpression(text.Trim(), slot, offset);
            return true;
        }
        if (split < 0 && TryNumber(t, out ulong address))
        {
            expression = new AddressExpression(text.Trim(), null, unchecked((long)address));
            return true;
        }
        error = $"{text}: not an address or register (try 0x401000, rsp, rbp-0x10)";
        return false;
    }

    /// <summary>The address at a step, given the thread's registers there (null: a register with no thread).</summary>
    public ulong? Resolve(RegisterFile? registers)
    {
        if (Register is not { } slot) return unchecked((ulong)Offset);
        if (registers is not { } r) return null;
        return unchecked(r[slot] + (ulong)Offset);
    }

    /// <summary>"0x1f" (hex, lower-case prefix) or "31" (decimal).</summary>
    public static bool TryNumber(string s, out ulong value) =>
        s.StartsWith("0x", StringComparison.Ordinal)
            ? ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
