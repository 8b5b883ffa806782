namespace Ether.Replay.Formats.Abi;

/// <summary>
/// Linux signal names on x86, as strace prints them: the header names for 1..31, then
/// SIGRTMIN for 32 and SIGRT_n for 32+n up to the kernel's _NSIG (64).
/// </summary>
public static partial class Signals
{
    /// <summary>The kernel's _NSIG on x86: the highest signal number.</summary>
    public const int Max = 64;

    /// <summary>"SIGSEGV" for 11, "SIGRT_1" for 33; null for 0 or a number above <see cref="Max"/>.</summary>
    public static string? Name(int signal)
    {
        if (signal > 0 && signal < Names.Length && Names[signal] is { } name)
            return name;
        if (signal == RtMin)
            return "SIGRTMIN";
        if (signal > RtMin && signal <= Max)
            return "SIGRT_" + (signal - RtMin);
        return null;
    }

    public static bool TryGetNumber(string name, out int signal)
    {
        for (signal = 1; signal <= Max; signal++)
            if (Name(signal) == name)
                return true;
        signal = -1;
        return false;
    }
}
