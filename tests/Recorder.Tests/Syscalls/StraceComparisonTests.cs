using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ELFSharp.ELF;
using ELFSharp.ELF.Segments;
using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Recorder.Tests.Syscalls;

/// <summary>
/// The real check: a small C program, compiled now, runs twice under strace, once with raw
/// arguments (-X raw -e raw=all) and once decoded. Our decoder gets the raw arguments and a memory
/// that holds only what is known for certain (the program's static non-PIE image, plus the bytes
/// the kernel put into its buffers, which come from a file the test wrote), and must print each
/// call exactly as strace did.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class StraceComparisonTests : IDisposable
{
    private const string Program = """
        #include <fcntl.h>
        #include <unistd.h>
        #include <sys/mman.h>
        #include <sys/socket.h>
        #include <sys/stat.h>
        #include <sys/un.h>

        static char buf[64];
        static char buf2[16];
        static struct stat st;
        static const char data[] = "line one\n\tbinary:\001\002\377 end \"quoted\" and a long tail to cut";
        static const char shortline[] = "ok\n";
        static struct sockaddr_un peer = { AF_UNIX, "/nonexistent/ether-replay.sock" };

        int main(void) {
            close(-1234); /* marker: everything before it is libc start-up */
            int fd = openat(AT_FDCWD, INPUT_PATH, O_RDONLY | O_CLOEXEC);
            ssize_t n = read(fd, buf, sizeof buf);
            fstat(fd, &st);
            pread(fd, buf2, sizeof buf2, 4);
            lseek(fd, -3, SEEK_END);
            write(1, data, sizeof data - 1);
            write(1, buf, n > 0 ? n : 0);
            write(1, shortline, sizeof shortline - 1);
            close(fd);
            openat(AT_FDCWD, INPUT_PATH ".missing", O_RDONLY);
            int out = openat(AT_FDCWD, OUTPUT_PATH, O_WRONLY | O_CREAT | O_TRUNC, 0640);
            write(out, buf2, sizeof buf2);
            close(out);
            /* A fixed hint keeps the address the same in both runs despite ASLR. */
            void *p = mmap((void *)0x20000000, 8192, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            mprotect(p, 4096, PROT_READ);
            munmap(p, 8192);
            int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            connect(s, (struct sockaddr *)&peer, sizeof peer);
            close(s);
            return 0;
        }
        """;

    private static readonly byte[] Input = Encoding.Latin1.GetBytes(
        "hello\nworld\0\u0001\u0002\u0003\u00fftail \"tail\" \\tail tail tail tail\t7");

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Decoded_calls_match_strace_exactly()
    {
        var input = Path.Combine(_dir.Path, "input.bin");
        File.WriteAllBytes(input, Input);
        File.SetUnixFileMode(input, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var source = Path.Combine(_dir.Path, "prog.c");
        File.WriteAllText(source, Program);
        var exe = Path.Combine(_dir.Path, "prog");
        // Static and not position-independent: the image, and every pointer into it, is at the same
        // address in both runs and in the ELF file.
        Run("gcc", "-static", "-no-pie", "-O1", $"-DINPUT_PATH=\"{input}\"", $"-DOUTPUT_PATH=\"{Path.Combine(_dir.Path, "out.bin")}\"",
            "-o", exe, source);

        const string calls = "trace=openat,read,write,pread64,lseek,close,newfstatat,mmap,mprotect,munmap,socket,connect";
        var rawFile = Path.Combine(_dir.Path, "raw.txt");
        var decodedFile = Path.Combine(_dir.Path, "decoded.txt");
        Run("strace", "-o", rawFile, "-X", "raw", "-e", "raw=all", "-e", calls, exe);
        Run("strace", "-o", decodedFile, "-e", calls, exe);
        var raw = AfterMarker(File.ReadAllLines(rawFile));
        var decoded = AfterMarker(File.ReadAllLines(decodedFile));
        Assert.Equal(decoded.Count, raw.Count);
        Assert.True(raw.Count >= 18, $"only {raw.Count} calls traced");

        var decoder = SyscallDecoder.For("linux-x86_64");
        var writes = KernelWriteSet.For("linux-x86_64");
        var table = SyscallTables.Find("linux-x86_64");
        // Memory evolves call by call: the image, plus what each call's kernel write set covered.
        var memory = LoadImage(exe);
        var compared = new List<string>();
        for (var i = 0; i < raw.Count; i++)
        {
            var (name, args, ret) = ParseRaw(raw[i]);
            Assert.True(table.TryGetNumber(name, out var nr), name);
            foreach (var (address, length) in writes.Writes(nr, args, ret, memory))
                memory.Put(address, KernelWrote(name, args, length, input));
            var rendered = decoder.DecodeExit(nr, args, ret, memory) ?? decoder.DecodeEntry(nr, args, memory);
            var ours = $"{name}({string.Join(", ", rendered)}) = {decoder.FormatReturn(nr, args, ret)}";
            Assert.Equal(Normalize(decoded[i]), ours);
            compared.Add(name);
        }
        // The calls that carry strings, buffers, flags, modes and structures were all among them.
        foreach (var name in new[] { "openat", "read", "newfstatat", "pread64", "write", "mmap", "connect" })
            Assert.Contains(name, compared);
    }

    [Fact]
    public void Dynamic_loader_calls_match_strace_exactly()
    {
        // The same program linked dynamically: ld.so's mmap/mprotect/munmap/brk/close/arch_prctl/rseq
        // calls need no memory to decode, only their registers. ASLR is switched off for both runs
        // (setarch -R) so the addresses agree.
        var input = Path.Combine(_dir.Path, "input.bin");
        File.WriteAllBytes(input, Input);
        var source = Path.Combine(_dir.Path, "prog.c");
        File.WriteAllText(source, Program);
        var exe = Path.Combine(_dir.Path, "prog-dynamic");
        Run("gcc", "-O1", $"-DINPUT_PATH=\"{input}\"", $"-DOUTPUT_PATH=\"{Path.Combine(_dir.Path, "out.bin")}\"", "-o", exe, source);

        const string calls = "trace=mmap,mprotect,munmap,brk,close,lseek,arch_prctl,set_robust_list,rseq";
        var rawFile = Path.Combine(_dir.Path, "raw.txt");
        var decodedFile = Path.Combine(_dir.Path, "decoded.txt");
        Run("setarch", "x86_64", "-R", "strace", "-o", rawFile, "-X", "raw", "-e", "raw=all", "-e", calls, exe);
        Run("setarch", "x86_64", "-R", "strace", "-o", decodedFile, "-e", calls, exe);
        var raw = File.ReadAllLines(rawFile).Where(l => !l.StartsWith("+++", StringComparison.Ordinal)).ToList();
        var decoded = File.ReadAllLines(decodedFile).Where(l => !l.StartsWith("+++", StringComparison.Ordinal)).ToList();
        Assert.Equal(decoded.Count, raw.Count);
        Assert.True(raw.Count >= 15, $"only {raw.Count} calls traced");

        var decoder = SyscallDecoder.For("linux-x86_64");
        var table = SyscallTables.Find("linux-x86_64");
        var noMemory = new FakeTargetMemory();
        for (var i = 0; i < raw.Count; i++)
        {
            var (name, args, ret) = ParseRaw(raw[i]);
            Assert.True(table.TryGetNumber(name, out var nr), name);
            var rendered = decoder.DecodeExit(nr, args, ret, noMemory) ?? decoder.DecodeEntry(nr, args, noMemory);
            Assert.Equal(Normalize(decoded[i]), $"{name}({string.Join(", ", rendered)}) = {decoder.FormatReturn(nr, args, ret)}");
        }
        Assert.Equal(0, noMemory.BytesRequested);
    }

    /// <summary>The bytes the kernel put into a range, known from the input file and its metadata.</summary>
    private static byte[] KernelWrote(string name, ulong[] args, long length, string input)
    {
        switch (name)
        {
            case "read":
                return Input[..(int)length];
            case "pread64":
                var offset = (int)args[3];
                return Input[offset..(offset + (int)length)];
            case "newfstatat":
                var stat = new byte[length];
                BinaryPrimitives.WriteUInt32LittleEndian(stat.AsSpan(24), 0x8000 | (uint)File.GetUnixFileMode(input));
                BinaryPrimitives.WriteInt64LittleEndian(stat.AsSpan(48), new FileInfo(input).Length);
                return stat;
            default:
                throw new InvalidOperationException($"the test does not know what {name} wrote");
        }
    }

    private static List<string> AfterMarker(string[] lines)
    {
        var marker = Array.FindIndex(lines, l => l.StartsWith("close(-1234)", StringComparison.Ordinal) || l.StartsWith("close(0xfffffb2e)", StringComparison.Ordinal));
        Assert.True(marker >= 0, "marker close(-1234) not found in:\n" + string.Join('\n', lines));
        return lines.Skip(marker + 1).Where(l => !l.StartsWith("+++", StringComparison.Ordinal) && !l.StartsWith("---", StringComparison.Ordinal)).ToList();
    }

    /// <summary>"read(0x3, 0x4a62e0, 0x40)  = 0x2d" → ("read", [3, 0x4a62e0, 64], 45).</summary>
    private static (string Name, ulong[] Args, long Ret) ParseRaw(string line)
    {
        var match = RawLine().Match(line);
        Assert.True(match.Success, "unexpected raw line: " + line);
        var args = match.Groups["args"].Value.Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(ParseHex).ToArray();
        var retText = match.Groups["ret"].Value;
        long ret;
        var error = ErrorReturn().Match(retText);
        if (error.Success)
            ret = Errno.TryGetNumber(error.Groups[1].Value, out var errno) ? -errno : throw new InvalidOperationException(retText);
        else
            ret = (long)ParseHex(retText);
        return (match.Groups["name"].Value, args, ret);
    }

    private static ulong ParseHex(string text) => text.StartsWith("0x", StringComparison.Ordinal)
        ? ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
        : ulong.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>strace pads the " = " to a column; we print one space.</summary>
    private static string Normalize(string line) => PaddedEquals().Replace(line, ") = ", 1);

    [GeneratedRegex(@"^(?<name>\w+)\((?<args>.*)\)\s+= (?<ret>.*)$")]
    private static partial Regex RawLine();

    [GeneratedRegex(@"^-1 (E\w+) ")]
    private static partial Regex ErrorReturn();

    [GeneratedRegex(@"\)\s+= (?!.*\)\s+= )")]
    private static partial Regex PaddedEquals();

    /// <summary>The PT_LOAD segments of the executable at their addresses; .bss reads as zeros.</summary>
    private static FakeTargetMemory LoadImage(string path)
    {
        var memory = new FakeTargetMemory();
        using var elf = ELFReader.Load<ulong>(path);
        foreach (var segment in elf.Segments.Where(s => s.Type == SegmentType.Load))
        {
            var bytes = new byte[segment.Size];
            segment.GetFileContents().CopyTo(bytes, 0);
            memory.Put(segment.Address, bytes);
        }
        return memory;
    }

    private static void Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish in 60 s");
        }
        Task.WaitAll(stdout, stderr);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
    }
}
