namespace Ether.Replay.Tests.Shared;

/// <summary>
/// Compiles a test program the tests wrote themselves as a freestanding static executable: no libc
/// (its start-up would add tens of thousands of steps to every trace), fixed addresses (no PIE), no
/// stack protector or CET padding, so the recorded instructions are the program's own.
/// </summary>
internal static class FreestandingProgram
{
    /// <summary>gcc's flags for such a program, before the caller's own (section addresses, -I, ...).</summary>
    private static readonly string[] Flags = ["-static", "-nostdlib", "-fno-pie", "-no-pie", "-O1", "-fno-stack-protector", "-fcf-protection=none"];

    /// <summary>Builds <paramref name="source"/> into <paramref name="output"/>; throws with gcc's output on failure.</summary>
    public static void Build(string directory, string source, string output, params string[] extra)
    {
        var gcc = EtherProcess.Exec(directory, "gcc", [.. Flags, .. extra, "-o", output, source]);
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc failed:\n{gcc}");
    }
}
