namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>How a suite program is built, by its file name: glibc_* static with glibc, dynamic_*
/// dynamically linked, everything else freestanding on Programs/tlib.h (fast to record).</summary>
public enum ProgramKind { Freestanding, StaticGlibc, Dynamic }

/// <summary>One anti-analysis technique of the suite: its source, and the program built from it.</summary>
public sealed record SuiteProgram(string Name, string Source, ProgramKind Kind)
{
    public string Binary { get; init; } = "";

    /// <summary>Every suite program under <paramref name="directory"/> (Programs/*.c).</summary>
    public static IReadOnlyList<SuiteProgram> All(string directory) =>
        Directory.GetFiles(directory, "*.c").Order(StringComparer.Ordinal)
            .Select(path => Path.GetFileNameWithoutExtension(path))
            .Select(name => new SuiteProgram(name, Path.Combine(directory, name + ".c"),
                name.StartsWith("glibc_", StringComparison.Ordinal) ? ProgramKind.StaticGlibc
                : name.StartsWith("dynamic_", StringComparison.Ordinal) ? ProgramKind.Dynamic
                : ProgramKind.Freestanding))
            .ToList();

    /// <summary>gcc's arguments for this program (the output path appended by the caller).</summary>
    public string[] GccArguments(string output) => Kind switch
    {
        ProgramKind.Freestanding => ["-static", "-nostdlib", "-fno-pie", "-no-pie", "-O1", "-fno-stack-protector", "-fcf-protection=none",
            "-I" + Path.GetDirectoryName(Source)!, "-o", output, Source],
        ProgramKind.StaticGlibc => ["-O1", "-static", "-pthread", "-o", output, Source],
        _ => ["-O1", "-o", output, Source],
    };
}
