using Ether.Replay.Formats.Model;
using MessagePack;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// Header frame payload: a MessagePack map with string keys (docs/trace-format.md, "Header").
/// Unknown keys are ignored, missing keys take defaults: both directions stay compatible.
/// </summary>
internal static class HeaderCodec
{
    public static void Write(ByteBuffer into, TraceHeader h, int formatVersion = FrameFormat.FormatVersion)
    {
        var w = new MessagePackWriter(into);
        w.WriteMapHeader(10);
        w.Write("format_version"); w.Write(formatVersion);
        w.Write("tool_version"); w.Write(h.ToolVersion);
        w.Write("backend"); w.Write(h.Backend);
        w.Write("backend_params");
        w.WriteMapHeader(h.BackendParameters.Count);
        foreach (var (k, v) in h.BackendParameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.Write(k);
            w.Write(v);
        }
        w.Write("target_path"); w.Write(h.TargetPath);
        w.Write("target_argv");
        w.WriteArrayHeader(h.TargetArgv.Count);
        foreach (var a in h.TargetArgv) w.Write(a);
        w.Write("target_sha256"); w.Write(h.TargetSha256);
        w.Write("arch"); w.Write(h.Architecture);
        w.Write("start_time_ns"); w.Write(ToUnixNanoseconds(h.StartTime));
        w.Write("host"); w.Write(h.Host);
        w.Flush();
    }

    public static TraceHeader Read(ReadOnlyMemory<byte> payload)
    {
        var r = new MessagePackReader(payload);
        int n = r.ReadMapHeader();
        int version = 0;
        string tool = "", backend = "", path = "", sha = "", arch = "", host = "";
        var parameters = new Dictionary<string, string>();
        var argv = new List<string>();
        long start = 0;
        for (int i = 0; i < n; i++)
        {
            string key = r.ReadString() ?? "";
            switch (key)
            {
                case "format_version": version = r.ReadInt32(); break;
                case "tool_version": tool = r.ReadString() ?? ""; break;
                case "backend": backend = r.ReadString() ?? ""; break;
                case "backend_params":
                    int m = r.ReadMapHeader();
                    for (int j = 0; j < m; j++) parameters[r.ReadString() ?? ""] = r.ReadString() ?? "";
                    break;
                case "target_path": path = r.ReadString() ?? ""; break;
                case "target_argv":
                    int a = r.ReadArrayHeader();
                    for (int j = 0; j < a; j++) argv.Add(r.ReadString() ?? "");
                    break;
                case "target_sha256": sha = r.ReadString() ?? ""; break;
                case "arch": arch = r.ReadString() ?? ""; break;
                case "start_time_ns": start = r.ReadInt64(); break;
                case "host": host = r.ReadString() ?? ""; break;
                default: r.Skip(); break;
            }
        }
        if (version < 1) throw new CorruptDataException("header has no format_version");
        return new TraceHeader
        {
            FormatVersion = version,
            ToolVersion = tool,
            Backend = backend,
            BackendParameters = parameters,
            TargetPath = path,
            TargetArgv = argv,
            TargetSha256 = sha,
            Architecture = arch,
            StartTime = FromUnixNanoseconds(start),
            Host = host,
        };
    }

    public static long ToUnixNanoseconds(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
    public static DateTimeOffset FromUnixNanoseconds(long ns) => DateTimeOffset.UnixEpoch.AddTicks(ns / 100);
}
