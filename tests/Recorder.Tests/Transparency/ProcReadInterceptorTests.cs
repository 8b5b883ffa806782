using System.Buffers.Binary;
using System.Text;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

namespace Ether.Replay.Recorder.Tests.Transparency;

/// <summary>
/// The /proc read machinery on a fake kernel: the "kernel" serves the real text (with a tracer in
/// it) from its own offset, the interceptor must make every way of reading show the rewritten text.
/// </summary>
public sealed class ProcReadInterceptorTests
{
    private const int Pid = 100, Tid = 100;
    private const string Real = "Name:\tprog\nState:\tt (tracing stop)\nTracerPid:\t31337\nUid:\t0\n";
    private const string Shown = "Name:\tprog\nState:\tR (running)\nTracerPid:\t0\nUid:\t0\n";
    private const ulong Buf = 0x10000, Iov = 0x20000, Word = 0x30000;

    /// <summary>Rewrites status files the way the tracer-hiding rewriter does, with fixed texts.</summary>
    private sealed class FixedRewriter : IProcFileRewriter
    {
        public int Calls;
        public bool Wants(ProcFileName file) => file.Name == "status";
        public byte[] Rewrite(ProcFileName file, byte[] original, ProcReader reader)
        {
            Calls++;
            Assert.Equal(Real, Encoding.ASCII.GetString(original));
            return Encoding.ASCII.GetBytes(Shown);
        }
    }

    /// <summary>A fake kernel: descriptors with real offsets into the real text.</summary>
    private sealed class Kernel
    {
        public readonly FakeMemory Memory = new();
        public readonly Dictionary<(int Pid, int Fd), (string Path, long Offset)> Fds = new();
        public readonly FixedRewriter Rewriter = new();
        public readonly ProcReadInterceptor Interceptor;
        public readonly Dictionary<int, int> Parents = new();
        public readonly List<(string, string)> Notes = [];

        public Kernel()
        {
            Interceptor = new ProcReadInterceptor(pid => Parents.GetValueOrDefault(pid), (pid, fd) => Fds.TryGetValue((pid, fd), out var f) ? f.Path : null,
                path => path.EndsWith("/status") ? Encoding.ASCII.GetBytes(Real) : null);
            Interceptor.Add(Rewriter);
            Memory.Map(Buf, 4096);
        }

        public FakeSyscall Call(long nr, params ulong[] args) => CallAs(Pid, nr, args);

        public FakeSyscall CallAs(int pid, long nr, params ulong[] args)
        {
            var c = new FakeSyscall(pid, pid, nr, Memory, args);
            Interceptor.OnEntry(c);
            return c;
        }

        public long Exit(FakeSyscall c, long ret)
        {
            Interceptor.OnExit(c.Exit(ret));
            Notes.AddRange(c.Notes);
            return c.Return;
        }

        public int Open(string target, int fd, int pid = Pid, int flags = 0)
        {
            Fds[(pid, fd)] = (target, 0);
            return (int)Exit(CallAs(pid, 257, unchecked((ulong)-100), 0x5000, (ulong)flags), fd);
        }

        /// <summary>read(fd, buf, count): the kernel copies the real text from its own offset.</summary>
        public long Read(int fd, int count, int pid = Pid)
        {
            var c = CallAs(pid, 0, (ulong)fd, Buf, (ulong)count);
            return Exit(c, KernelCopy(pid, fd, Buf, count, positional: null));
        }

        public long KernelCopy(int pid, int fd, ulong buf, int count, long? positional)
        {
            var (path, off) = Fds[(pid, fd)];
            long at = positional ?? off;
            var real = Encoding.ASCII.GetBytes(Real);
            int n = (int)Math.Clamp(real.Length - at, 0, count);
            Memory.Write(buf, real.AsSpan((int)Math.Min(at, real.Length), n));
            if (positional is null) Fds[(pid, fd)] = (path, off + n);
            return n;
        }

        public string Text(long n) => Encoding.ASCII.GetString(Memory.Get(Buf, (int)n));
    }

    [Fact]
    public void A_whole_read_shows_the_rewritten_text_and_the_trace_keeps_the_kernels()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        long n = k.Read(3, 4096);
        Assert.Equal(Shown.Length, n);
        Assert.Equal(Shown, k.Text(n));
        Assert.Equal(0, k.Read(3, 4096));
        var note = Assert.Single(k.Notes);
        Assert.Equal("transparency", note.Item1);
        Assert.Contains("TracerPid:\\t31337", note.Item2);
        Assert.Contains($"the kernel returned {Real.Length} bytes, the program was shown {Shown.Length}", note.Item2);
    }

    [Fact]
    public void Reads_of_one_byte_at_a_time_add_up_to_the_rewritten_text()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        var sb = new StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            long n = k.Read(3, 1);
            if (n == 0) break;
            Assert.Equal(1, n);
            sb.Append(k.Text(1));
        }
        Assert.Equal(Shown, sb.ToString());
        Assert.Equal(1, k.Rewriter.Calls); // one text for the whole sequential read
    }

    [Fact]
    public void Bytes_beyond_the_returned_length_are_as_they_were_before_the_call()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        k.Memory.Map(Buf, 4096, fill: 0x5A);
        long n = k.Read(3, 4096);
        // The kernel wrote Real.Length (> Shown.Length) bytes; those past n must be the program's 0x5A again.
        Assert.True(Real.Length > n);
        Assert.All(k.Memory.Get(Buf + (ulong)n, Real.Length - (int)n + 16), b => Assert.Equal(0x5A, b));
    }

    [Fact]
    public void Readv_scatters_the_rewritten_text_over_the_vectors()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        int[] lengths = [7, 13, 29, 400];
        var iov = new byte[16 * lengths.Length];
        ulong at = Buf;
        for (int i = 0; i < lengths.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(iov.AsSpan(16 * i), at);
            BinaryPrimitives.WriteUInt64LittleEndian(iov.AsSpan(16 * i + 8), (ulong)lengths[i]);
            at += (ulong)lengths[i] + 100; // gaps between the buffers
        }
        k.Memory.Write(Iov, iov);
        var c = k.Call(19, 3, Iov, (ulong)lengths.Length);
        // The kernel scatters the real text.
        var real = Encoding.ASCII.GetBytes(Real);
        int off = 0;
        at = Buf;
        foreach (int len in lengths)
        {
            int take = Math.Min(len, real.Length - off);
            if (take > 0) k.Memory.Write(at, real.AsSpan(off, take));
            off += Math.Max(take, 0);
            at += (ulong)len + 100;
        }
        long n = k.Exit(c, real.Length);
        Assert.Equal(Shown.Length, n);
        var sb = new StringBuilder();
        at = Buf;
        int left = (int)n;
        foreach (int len in lengths)
        {
            int take = Math.Min(len, left);
            sb.Append(Encoding.ASCII.GetString(k.Memory.Get(at, take)));
            left -= take;
            at += (ulong)len + 100;
        }
        Assert.Equal(Shown, sb.ToString());
    }

    [Fact]
    public void Pread_reads_at_its_offset_without_moving_the_file_offset()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        var c = k.Call(17, 3, Buf, 10, 11);
        long n = k.Exit(c, k.KernelCopy(Pid, 3, Buf, 10, positional: 11));
        Assert.Equal(10, n);
        Assert.Equal(Shown.Substring(11, 10), k.Text(n));
        n = k.Read(3, 4096);
        Assert.Equal(Shown, k.Text(n)); // the stream read still starts at 0
    }

    [Fact]
    public void Lseek_works_in_the_rewritten_text()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        k.Read(3, 20);
        // SEEK_CUR 0: the kernel says 20 (its offset); the program's offset in the shown text is 20 too here,
        // but after a shorter rewritten read they differ: read to the end, then ask.
        k.Read(3, 4096);
        var c = k.Call(8, 3, 0, 1);
        Assert.Equal(Shown.Length, k.Exit(c, Real.Length));
        c = k.Call(8, 3, 6, 0);
        Assert.Equal(6, k.Exit(c, 6));
        long n = k.Read(3, 5);
        Assert.Equal(Shown.Substring(6, 5), k.Text(n));
    }

    [Fact]
    public void Duplicates_share_the_offset_and_close_forgets_the_descriptor()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        k.Exit(k.Call(32, 3), 4);                   // dup(3) = 4
        k.Exit(k.Call(72, 3, 1030, 10), 10);        // fcntl(3, F_DUPFD_CLOEXEC, 10) = 10
        k.Fds[(Pid, 4)] = k.Fds[(Pid, 3)];
        k.Fds[(Pid, 10)] = k.Fds[(Pid, 3)];
        Assert.Equal(5, k.Read(3, 5));
        Assert.Equal(5, k.Read(4, 5));
        Assert.Equal(Shown.Substring(5, 5), k.Text(5));
        Assert.Equal(5, k.Read(10, 5));
        Assert.Equal(Shown.Substring(10, 5), k.Text(5));
        k.Exit(k.Call(3, 4), 0);                    // close(4)
        k.Fds[(Pid, 4)] = ("/tmp/other", 0);
        Assert.Null(k.Interceptor.Tables.Get(Pid, 4));
        Assert.NotNull(k.Interceptor.Tables.Get(Pid, 3));
    }

    [Fact]
    public void A_forked_child_inherits_and_exec_closes_only_close_on_exec_descriptors()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        k.Open("/proc/100/status", 5, flags: 0x80000);
        Assert.Equal(5, k.Read(3, 5));
        k.Parents[200] = Pid;
        k.Fds[(200, 3)] = k.Fds[(Pid, 3)];
        Assert.Equal(5, k.Read(3, 5, pid: 200)); // the same open file: the child goes on from offset 5
        Assert.Equal(Shown.Substring(5, 5), k.Text(5));
        k.Exit(k.CallAs(200, 59, 0x9000, 0, 0), 0);  // the child execs
        Assert.NotNull(k.Interceptor.Tables.Get(200, 3));
        Assert.Null(k.Interceptor.Tables.Get(200, 5));
        Assert.NotNull(k.Interceptor.Tables.Get(Pid, 5));
    }

    [Fact]
    public void Descriptors_on_other_files_are_left_alone()
    {
        var k = new Kernel();
        k.Fds[(Pid, 3)] = ("/proc/100/maps", 0);
        k.Exit(k.Call(257, unchecked((ulong)-100), 0x5000, 0), 3);
        k.Memory.Write(Buf, "abc"u8);
        var c = k.Call(0, 3, Buf, 100);
        Assert.Equal(3, k.Exit(c, 3));
        Assert.Equal("abc", k.Text(3));
        Assert.Empty(k.Notes);
        Assert.Null(k.Interceptor.Tables.Get(Pid, 3));
    }

    [Fact]
    public void Errors_are_the_kernels()
    {
        var k = new Kernel();
        k.Open("/proc/100/status", 3);
        var c = k.Call(0, 3, Buf, 100);
        Assert.Equal(-14, k.Exit(c, -14)); // EFAULT stays
    }
}
