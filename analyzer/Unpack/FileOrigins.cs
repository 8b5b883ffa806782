using System.Buffers.Binary;

namespace Ether.Replay.Analyzer.Unpack;

/// <summary>
/// Files written inside the trace (from its file events), by device and inode: how deep the code
/// that wrote each one was (its layer) and the chain of calls that made it, so that an exec, an
/// interpreter's argument or an executable mapping of such a file is a layer one deeper than its
/// writer's, across processes.
/// </summary>
internal sealed class FileOrigins
{
    internal sealed class Origin
    {
        public int WriterLayer;
        public bool Memfd;
        public string Path = "";
        /// <summary>Per (pid, call): times and bytes, in first-seen order.</summary>
        public readonly List<(int Pid, string Call, string Op, long Times, long Bytes)> Calls = new();
    }

    private readonly Dictionary<(ulong, ulong), Origin> _files = new();

    public Origin? Find(ulong device, ulong inode) => inode == 0 ? null : _files.GetValueOrDefault((device, inode));

    /// <summary>A file event by a process whose code is at <paramref name="writerLayer"/>.</summary>
    public void OnEvent(FileEvent e, int writerLayer)
    {
        var key = (e.Device, e.Inode);
        if (!_files.TryGetValue(key, out var origin))
        {
            if (!FileOps.Writes(e.Op)) return;
            _files[key] = origin = new Origin();
        }
        if (FileOps.Writes(e.Op)) origin.WriterLayer = Math.Max(origin.WriterLayer, writerLayer);
        origin.Memfd |= e.Op == FileOps.Memfd || e.Path.StartsWith("/memfd:", StringComparison.Ordinal);
        if (e.Path.Length > 0 && e.Op != FileOps.Exec && e.Op != FileOps.ExecArgument) origin.Path = e.Path;
        if (e.Op is FileOps.Exec or FileOps.ExecArgument) return; // the chain names the exec itself
        int i = origin.Calls.FindIndex(c => c.Pid == e.Pid && c.Call == e.Call);
        if (i < 0) origin.Calls.Add((e.Pid, e.Call, e.Op, 1, e.Length));
        else origin.Calls[i] = origin.Calls[i] with { Times = origin.Calls[i].Times + 1, Bytes = origin.Calls[i].Bytes + e.Length };
    }

    /// <summary>"pid 12 memfd_create ("/memfd:x"), pid 12 write ×3 (12,345 bytes), pid 14 execveat".</summary>
    public static string Chain(Origin o, FileEvent? exec)
    {
        var parts = o.Calls.Select(c => $"pid {c.Pid} {c.Call}" + (c.Times > 1 ? $" x{c.Times}" : "") + (c.Bytes > 0 ? $" ({c.Bytes:N0} bytes)" : "")).ToList();
        if (exec != null) parts.Add($"pid {exec.Pid} {exec.Call}{(exec.Op == FileOps.ExecArgument ? " (as an interpreter's argument)" : "")}");
        return $"{o.Path}: " + string.Join(", ", parts);
    }

    /// <summary>The entry point an ELF file's header names, placed where its mappings are (null for a script).</summary>
    public static ulong? ElfEntry(byte[] file, ulong firstMappingStart)
    {
        if (file.Length < 64 || file[0] != 0x7f || file[1] != 'E' || file[2] != 'L' || file[3] != 'F' || file[4] != 2) return null;
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(16));
        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(24));
        return type == 3 ? firstMappingStart + entry : entry;
    }
}
