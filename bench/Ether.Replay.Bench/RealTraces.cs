using System.Text;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Bench;

/// <summary>
/// Real traces for `bench format`: Debian's hash and compression tools recorded by the ptrace recorder
/// (the code `ether record` runs) over deterministic inputs the bench writes itself. Recorded once and
/// cached beside the synthetic traces, under a name that carries the format version, so a format
/// change records them again.
/// </summary>
internal static class RealTraces
{
    /// <summary>One recording: a program of a Debian package, its arguments ({input} = the input file), the input's size.</summary>
    public sealed record Workload(string Name, string Package, string Program, string[] Args, int InputBytes);

    /// <summary>Hashing and compression (registers take fresh values nearly every instruction) and one ordinary tool. Input sizes keep
    /// each one at 1-4 M instructions (about a minute of recording on an idle machine).</summary>
    public static readonly Workload[] All =
    [
        new("md5sum 140 KB", "coreutils", "/usr/bin/md5sum", ["{input}"], 140_000),
        new("sha1sum 64 KB", "coreutils", "/usr/bin/sha1sum", ["{input}"], 65_536),
        new("sha256sum 32 KB", "coreutils", "/usr/bin/sha256sum", ["{input}"], 32_768),
        new("b2sum 64 KB", "coreutils", "/usr/bin/b2sum", ["{input}"], 65_536),
        new("cksum 140 KB", "coreutils", "/usr/bin/cksum", ["{input}"], 140_000),
        new("gzip -c 16 KB", "gzip", "/bin/gzip", ["-c", "{input}"], 16_384),
        new("bzip2 -c 16 KB", "bzip2", "/bin/bzip2", ["-c", "{input}"], 16_384),
        new("xz -c -1 8 KB", "xz-utils", "/usr/bin/xz", ["-c", "-1", "{input}"], 8_192),
        new("zstd -c 16 KB", "zstd", "/usr/bin/zstd", ["-c", "{input}"], 16_384),
        new("openssl sha256 16 KB", "openssl", "/usr/bin/openssl", ["dgst", "-sha256", "{input}"], 16_384),
        // An ordinary tool beside them (string handling, libc, system calls): prediction must not cost it.
        new("ls -la /etc", "coreutils", "/bin/ls", ["-la", "/etc"], 0),
    ];

    /// <summary>The cached trace of <paramref name="w"/>, recorded now if missing; null (with a message) when the tool is not installed.</summary>
    public static string? Get(Workload w)
    {
        if (!File.Exists(w.Program))
        {
            Console.WriteLine($"  {w.Name}: {w.Program} is not installed (Debian package {w.Package}; ./setup.sh installs it): skipped");
            return null;
        }
        Directory.CreateDirectory(BenchTraces.Directory);
        string slug = new(w.Name.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());
        string path = Path.Combine(BenchTraces.Directory, $"real-{slug}-v{FormatVersion}.etrace");
        if (File.Exists(path)) return path;

        string input = Path.Combine(BenchTraces.Directory, $"input-{w.InputBytes}.txt");
        if (w.InputBytes > 0 && !File.Exists(input)) File.WriteAllText(input, Text(w.InputBytes));
        string tmp = path + ".tmp";
        Console.WriteLine($"  recording {w.Name} with the ptrace recorder (cached in {path}) ...");
        var result = TraceRecorder.Record(new PtraceRecordOptions
        {
            Program = w.Program,
            Arguments = w.Args.Select(a => a.Replace("{input}", input, StringComparison.Ordinal)).ToArray(),
            OutputPath = tmp,
            Sandbox = new SandboxOptions { StdoutPath = "/dev/null" },
        });
        if (result.StopReason != StopReason.Exited || result.RootExitCode != 0)
            throw new InvalidOperationException($"recording {w.Name} stopped: {result.StopReason} {result.StopDetail}");
        File.Move(tmp, path, overwrite: true);
        return path;
    }

    /// <summary>The version this build writes (a cached trace of another version is not reused).</summary>
    public static int FormatVersion => Formats.LogInternal.FrameFormat.FormatVersion;

    /// <summary>Word soup of <paramref name="bytes"/> bytes (deterministic): compressible like text, not trivially.</summary>
    public static string Text(int bytes)
    {
        string[] words = ["ether", "replay", "trace", "step", "region", "snapshot", "keyframe", "unpack", "layer", "syscall", "write", "memory", "the", "a", "of", "and"];
        var random = new Random(1);
        var text = new StringBuilder(bytes + 16);
        while (text.Length < bytes) text.Append(words[random.Next(words.Length)]).Append(' ');
        return text.ToString(0, bytes);
    }
}
