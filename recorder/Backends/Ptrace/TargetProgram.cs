using ELFSharp.ELF;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// The program to record, resolved to an absolute path (the sandbox changes directory before exec)
/// and checked before anything is started: an x86-64 ELF executable or a "#!" script.
/// </summary>
public sealed class TargetProgram
{
    public string Path { get; }
    public IReadOnlyList<string> Arguments { get; }
    public string Kind { get; }

    private TargetProgram(string path, IReadOnlyList<string> arguments, string kind)
    {
        Path = path;
        Arguments = arguments;
        Kind = kind;
    }

    /// <summary>Resolves <paramref name="program"/> like execvp would; throws <see cref="RecordingSetupException"/> with a one-line reason.</summary>
    public static TargetProgram Resolve(string program, IReadOnlyList<string> arguments)
    {
        if (string.IsNullOrEmpty(program)) throw new RecordingSetupException("no program given");
        string? path = program.Contains('/') ? System.IO.Path.GetFullPath(program) : SearchPath(program);
        if (path is null || !File.Exists(path))
            throw new RecordingSetupException($"program not found: {program}");
        if (!OperatingSystem.IsWindows()
            && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            throw new RecordingSetupException($"not executable: {path}");
        return new TargetProgram(path, arguments, Classify(path));
    }

    private static string? SearchPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            if (dir.Length == 0) continue;
            var candidate = System.IO.Path.Combine(dir, name);
            if (File.Exists(candidate)) return System.IO.Path.GetFullPath(candidate);
        }
        return null;
    }

    private static string Classify(string path)
    {
        Span<byte> head = stackalloc byte[4];
        int n;
        try
        {
            using var f = File.OpenRead(path);
            n = f.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecordingSetupException($"cannot read {path}: {e.Message}");
        }
        if (n >= 2 && head[0] == '#' && head[1] == '!') return "script";
        if (n < 4 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F')
            throw new RecordingSetupException($"not an x86-64 ELF executable or a #! script: {path}");
        if (!ELFReader.TryLoad(path, out IELF? elf))
            throw new RecordingSetupException($"not an x86-64 ELF executable or a #! script (unreadable ELF): {path}");
        using (elf)
        {
            if (elf.Class != Class.Bit64 || elf.Machine != Machine.AMD64)
                throw new RecordingSetupException($"not an x86-64 ELF executable ({elf.Class}, {elf.Machine}): {path}");
            if (elf.Type is not (FileType.Executable or FileType.SharedObject))
                throw new RecordingSetupException($"not an executable ELF ({elf.Type}): {path}");
        }
        return "elf";
    }
}
