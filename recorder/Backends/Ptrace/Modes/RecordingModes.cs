using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Recorder.Backends.Ptrace.Modes;

/// <summary>The ptrace backend's recording modes by name: the one list `--mode` accepts.</summary>
public static class RecordingModes
{
    public const string Full = "full";
    public const string Syscalls = "syscalls";
    public const string Unpack = "unpack";
    public const string Layers = "layers";

    private static readonly (string Name, string Help, Func<RecordingMode> Create)[] All =
    [
        (Full, "every instruction, memory write and system call (trap-flag single-stepping)", () => new FullMode()),
        (Syscalls, "system calls only, for long-running targets", () => new SyscallsMode()),
        (Unpack, "system calls, plus the moments of unpacking (first write into code, first run of written memory) from pages kept writable-xor-executable; otherwise native speed",
            () => new UnpackMode()),
        (Layers, "unpack mode, plus every instruction (registers, exact writes) single-stepped while execution is inside written code: the unpacked payload's instruction trace without stepping its unpacker",
            () => new LayersMode()),
    ];

    /// <summary>Every mode name, in the order --help lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(m => m.Name)];

    /// <summary>"full: ...; syscalls: ..." for --help.</summary>
    public static string Help { get; } = string.Join("; ", All.Select(m => $"{m.Name}: {m.Help}"));

    /// <summary>A fresh mode object for one recording; throws <see cref="RecordingSetupException"/> for an unknown name.</summary>
    internal static RecordingMode Create(string name)
    {
        foreach (var m in All)
            if (m.Name == name) return m.Create();
        throw new RecordingSetupException($"unknown recording mode '{name}' (known: {string.Join(", ", Names)})");
    }
}
