using System.Buffers.Binary;
using System.Text;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

/// <summary>
/// Rewrites what the program reads from /proc files, at the exit of its read calls, before the
/// recording pipeline records them (so the trace holds what the program saw; the kernel's own
/// bytes, when they differ, go into an annotation "transparency").
///
/// Mechanics: after every successful open (open, openat, openat2, creat) the new descriptor's
/// target is read back (/proc/&lt;pid&gt;/fd/&lt;fd&gt;), which names the file the same way whatever
/// path form the program used; a descriptor on a file some <see cref="IProcFileRewriter"/> wants is
/// tracked through dup/dup2/dup3/fcntl(F_DUPFD*, F_SETFD), close, close_range, fork and exec. A read
/// (read, pread64, readv, preadv, preadv2) on a tracked descriptor is answered from the rewritten
/// text at the program's own offset, whatever the kernel returned: lengths, return values and
/// offsets (lseek too) are the rewritten text's, and bytes of the buffer beyond the returned length
/// are put back as they were before the call, as natively; each read returns as many bytes as the
/// kernel's seq_file would (whole records, at most a page of them at a time: <see cref="SeqFileReads"/>).
/// The text is regenerated when a read starts at offset 0, as the kernel regenerates a seq_file.
/// Not rewritten (documented): sendfile/splice/copy_file_range/io_uring reads of /proc files, and
/// 32-bit (int 0x80) calls.
/// </summary>
internal sealed class ProcReadInterceptor
{
    private const long Open = 2, Openat = 257, Openat2 = 437, Creat = 85;
    private const long Dup = 32, Dup2 = 33, Dup3 = 292, Fcntl = 72, Close = 3, CloseRange = 436;
    private const long Read = 0, Pread64 = 17, Readv = 19, Preadv = 295, Preadv2 = 327, Lseek = 8;
    private const long Execve = 59, Execveat = 322;
    private const int OCloexec = 0x80000;
    private const int FDupfd = 0, FSetfd = 2, FDupfdCloexec = 1030;
    private const int MaxSaved = 1 << 20;

    private readonly List<IProcFileRewriter> _rewriters = [];
    private readonly ProcFdTables _tables;
    private readonly Func<int, int, string?> _readLink;
    private readonly Func<string, byte[]?> _readFile;
    /// <summary>Per thread: the destination buffers of a read in progress on a tracked descriptor, as they were before the call.</summary>
    private readonly Dictionary<int, PendingRead> _pending = new();

    /// <param name="parentOf">The parent pid of a traced process (for inherited descriptors).</param>
    /// <param name="readLink">Target of /proc/&lt;pid&gt;/fd/&lt;fd&gt; (tests pass a fake).</param>
    /// <param name="readFile">Whole content of a /proc file now, null if it cannot be read (tests pass a fake).</param>
    public ProcReadInterceptor(Func<int, int> parentOf, Func<int, int, string?>? readLink = null, Func<string, byte[]?>? readFile = null)
    {
        _tables = new ProcFdTables(parentOf);
        _readLink = readLink ?? ReadFdLink;
        _readFile = readFile ?? ReadProcFile;
    }

    /// <summary>Adds a rewriter; the first one that wants a file gets it.</summary>
    public void Add(IProcFileRewriter rewriter) => _rewriters.Add(rewriter);

    public ProcFdTables Tables => _tables;

    // ---- entry ---------------------------------------------------------------------------

    public void OnEntry(ISyscallView call)
    {
        switch (call.Number)
        {
            case Read or Pread64:
                if (_tables.Get(call.Pid, (int)call.Arg(0)) is null) return;
                _pending[call.Tid] = PendingRead.Save(call, [(call.Arg(1), (long)Math.Min(call.Arg(2), MaxSaved))]);
                return;
            case Readv or Preadv or Preadv2:
                if (_tables.Get(call.Pid, (int)call.Arg(0)) is null) return;
                _pending[call.Tid] = PendingRead.Save(call, ReadIovecs(call, call.Arg(1), (int)Math.Min(call.Arg(2), 1024)));
                return;
        }
    }

    // ---- exit ----------------------------------------------------------------------------

    public void OnExit(ISyscallView call)
    {
        long ret = call.Return;
        switch (call.Number)
        {
            case Open or Openat or Openat2 or Creat:
                if (ret >= 0) Opened(call, (int)ret, OpenFlags(call));
                return;
            case Dup:
                if (ret >= 0) Duplicate(call.Pid, (int)call.Arg(0), (int)ret, false);
                return;
            case Dup2 or Dup3:
                if (ret >= 0 && call.Arg(0) != call.Arg(1))
                {
                    _tables.Close(call.Pid, (int)ret);
                    Duplicate(call.Pid, (int)call.Arg(0), (int)ret, call.Number == Dup3 && (call.Arg(2) & OCloexec) != 0);
                }
                return;
            case Fcntl:
                FileControl(call, ret);
                return;
            case Close:
                if (ret == 0 || ret == -4 /* EINTR: the descriptor is closed anyway */) _tables.Close(call.Pid, (int)call.Arg(0));
                return;
            case CloseRange:
                if (ret == 0 && (call.Arg(2) & 2 /* CLOSE_RANGE_UNSHARE */) == 0)
                    _tables.CloseRange(call.Pid, (uint)call.Arg(0), (uint)call.Arg(1), cloexecOnly: (call.Arg(2) & 4) != 0);
                return;
            case Execve or Execveat:
                if (ret == 0) _tables.Exec(call.Pid);
                return;
            case Lseek:
                Seek(call, ret);
                return;
            case Read or Pread64 or Readv or Preadv or Preadv2:
                if (_pending.Remove(call.Tid, out var pending)) Served(call, ret, pending);
                return;
        }
    }

    /// <summary>The process exited: its descriptors are gone.</summary>
    public void ProcessGone(int pid) => _tables.Forget(pid);

    private int OpenFlags(ISyscallView call)
    {
        switch (call.Number)
        {
            case Open: return (int)call.Arg(1);
            case Openat: return (int)call.Arg(2);
            case Creat: return 0x241;
            default: // openat2(dirfd, path, struct open_how *how, size): how->flags is the first u64
                Span<byte> b = stackalloc byte[8];
                return call.ReadMemory(call.Arg(2), b) == 8 ? (int)BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;
        }
    }

    private void Opened(ISyscallView call, int fd, int flags)
    {
        _tables.Close(call.Pid, fd); // a reused number
        if (_rewriters.Count == 0) return;
        string? target = _readLink(call.Pid, fd);
        if (target is null || ProcFileName.Parse(target) is not { } file) return;
        foreach (var r in _rewriters)
        {
            if (!r.Wants(file)) continue;
            _tables.Set(call.Pid, fd, new ProcDescriptor(new OpenProcFile(file, r), (flags & OCloexec) != 0));
            return;
        }
    }

    private void Duplicate(int pid, int from, int to, bool cloexec)
    {
        if (_tables.Get(pid, from) is { } d) _tables.Set(pid, to, new ProcDescriptor(d.File, cloexec));
        else _tables.Close(pid, to);
    }

    private void FileControl(ISyscallView call, long ret)
    {
        int fd = (int)call.Arg(0);
        switch ((int)call.Arg(1))
        {
            case FDupfd when ret >= 0: Duplicate(call.Pid, fd, (int)ret, false); return;
            case FDupfdCloexec when ret >= 0: Duplicate(call.Pid, fd, (int)ret, true); return;
            case FSetfd when ret == 0:
                if (_tables.Get(call.Pid, fd) is { } d) _tables.Set(call.Pid, fd, d with { CloseOnExec = (call.Arg(2) & 1) != 0 });
                return;
        }
    }

    private void Seek(ISyscallView call, long ret)
    {
        if (ret < 0 || _tables.Get(call.Pid, (int)call.Arg(0)) is not { } d) return;
        var f = d.File;
        long offset = (long)call.Arg(1);
        long target = (int)call.Arg(2) switch
        {
            0 => offset,                                              // SEEK_SET
            1 => f.Offset + offset,                                   // SEEK_CUR
            2 when f.Content is { } c => c.Length + offset,           // SEEK_END (seq_files refuse it; kept for other files)
            _ => ret,
        };
        if (target < 0) { call.Return = -22; return; } // EINVAL
        f.Offset = target;
        call.Return = target;
    }

    // ---- reads -----------------------------------------------------------------------------

    private void Served(ISyscallView call, long ret, PendingRead pending)
    {
        if (ret < 0 || _tables.Get(call.Pid, (int)call.Arg(0)) is not { } d) return;
        var f = d.File;
        bool positional = call.Number is Pread64 or Preadv || (call.Number == Preadv2 && (long)call.Arg(3) != -1);
        long pos = positional ? (long)call.Arg(3) : f.Offset;
        if (pos < 0) return;

        if (pos == 0 || f.Content is null)
        {
            byte[]? original = _readFile(f.File.Path);
            if (original is null) return; // the task is gone: the kernel's answer stands
            f.Content = f.Rewriter.Rewrite(f.File, original, new ProcReader(call.Pid, call.Tid));
            f.Records = f.Rewriter.Records(f.File, f.Content);
            f.Reads.Restart();
        }
        var content = f.Content;
        long capacity = pending.Capacity;
        int n = (int)f.Reads.Read(pos, capacity, f.Records); // whole records, as the kernel's seq_file returns them

        // What the kernel put there (for the trace, if it differs), then what the program sees.
        byte[] kernel = pending.Gather(call, (int)Math.Min(ret, capacity));
        var shown = content.AsSpan((int)Math.Min(pos, content.Length), n);
        pending.Scatter(call, shown, kernelBytes: kernel.Length);
        call.Return = n;
        if (!positional) f.Offset = pos + n;
        if (kernel.Length != n || !shown.SequenceEqual(kernel))
            call.Annotate("transparency", $"{Name(call.Number)}({call.Arg(0)}) of {f.File} at offset {pos}: the kernel returned {ret} bytes, the program was shown {n}; the kernel's bytes: {Quote(kernel)}");
    }

    private static string Name(long nr) => nr switch { Read => "read", Pread64 => "pread64", Readv => "readv", Preadv => "preadv", _ => "preadv2" };

    private static List<(ulong Address, long Length)> ReadIovecs(ISyscallView call, ulong iov, int count)
    {
        var list = new List<(ulong, long)>(count);
        Span<byte> e = stackalloc byte[16];
        long total = 0;
        for (int i = 0; i < count && total < MaxSaved; i++)
        {
            if (call.ReadMemory(iov + (ulong)(16 * i), e) != 16) break;
            ulong b = BinaryPrimitives.ReadUInt64LittleEndian(e);
            long len = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), (ulong)(MaxSaved - total));
            list.Add((b, len));
            total += len;
        }
        return list;
    }

    /// <summary>Printable form of the kernel's bytes for the annotation (escapes like C strings).</summary>
    private static string Quote(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length + 2).Append('"');
        foreach (byte b in bytes)
        {
            switch (b)
            {
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                case < 0x20 or >= 0x7f: sb.Append("\\x").Append(b.ToString("x2")); break;
                default: sb.Append((char)b); break;
            }
        }
        return sb.Append('"').ToString();
    }

    // ---- defaults: the real /proc --------------------------------------------------------------

    private static string? ReadFdLink(int pid, int fd)
    {
        try { return new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>A /proc file's whole text (they report size 0: read to the end).</summary>
    private static byte[]? ReadProcFile(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            using var ms = new MemoryStream();
            var buf = new byte[8192];
            int n;
            while ((n = f.Read(buf, 0, buf.Length)) > 0) ms.Write(buf, 0, n);
            return ms.ToArray();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The destination buffers of a read, with their bytes before the call.</summary>
    private sealed class PendingRead
    {
        private readonly List<(ulong Address, byte[] Before)> _buffers = [];

        public long Capacity { get; private set; }

        public static PendingRead Save(ISyscallView call, List<(ulong Address, long Length)> buffers)
        {
            var p = new PendingRead();
            foreach (var (address, length) in buffers)
            {
                if (length <= 0) continue;
                var before = new byte[length];
                int got = call.ReadMemory(address, before);
                if (got < length) Array.Resize(ref before, Math.Max(got, 0));
                p._buffers.Add((address, before));
                p.Capacity += before.Length;
                if (got < length) break; // the kernel stops at the first unwritable byte too
            }
            return p;
        }

        /// <summary>The first <paramref name="count"/> bytes across the buffers (what the kernel wrote).</summary>
        public byte[] Gather(ISyscallView call, int count)
        {
            var all = new byte[count];
            int off = 0;
            foreach (var (address, before) in _buffers)
            {
                if (off >= count) break;
                int take = Math.Min(before.Length, count - off);
                call.ReadMemory(address, all.AsSpan(off, take));
                off += take;
            }
            return all;
        }

        /// <summary>Writes <paramref name="shown"/> across the buffers and puts back, up to
        /// <paramref name="kernelBytes"/>, the bytes the kernel overwrote beyond it.</summary>
        public void Scatter(ISyscallView call, ReadOnlySpan<byte> shown, int kernelBytes)
        {
            int end = Math.Max(shown.Length, kernelBytes);
            int off = 0;
            foreach (var (address, before) in _buffers)
            {
                if (off >= end) break;
                int len = Math.Min(before.Length, end - off);
                var chunk = new byte[len];
                for (int i = 0; i < len; i++)
                    chunk[i] = off + i < shown.Length ? shown[off + i] : before[i];
                call.WriteMemory(address, chunk);
                off += len;
            }
        }
    }
}
