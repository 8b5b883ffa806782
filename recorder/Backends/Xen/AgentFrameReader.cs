using System.Buffers.Binary;
using System.Text;
using MessagePack;

namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>A frame stream that breaks the protocol; the message is one line for the user.</summary>
public sealed class AgentProtocolException(string message) : Exception(message);

/// <summary>
/// Reads ether-agent frames (docs/xen-agent-protocol.md §2): a big-endian u32 length, then one
/// MessagePack map with string keys. Unknown keys are skipped; unknown frame types come back as
/// <see cref="AgentFrameType.Unknown"/> for the caller to count.
/// </summary>
public sealed class AgentFrameReader(Stream input)
{
    public const int MaxFrameLength = 1 << 20;

    private readonly Stream _input = input;
    private byte[] _body = new byte[64 * 1024];
    private long _offset;
    private ulong? _lastSeq;

    /// <summary>Bytes consumed so far (for error messages).</summary>
    public long Offset => _offset;

    /// <summary>Reads the next frame into <paramref name="frame"/>; false at a clean end of stream.</summary>
    public bool Next(AgentFrame frame)
    {
        Span<byte> prefix = stackalloc byte[4];
        int got = ReadFully(prefix);
        if (got == 0) return false;
        if (got < 4) throw new AgentProtocolException($"agent stream ends inside a frame length at byte {_offset}");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length == 0 || length > MaxFrameLength)
            throw new AgentProtocolException($"agent frame at byte {_offset} claims {length} bytes (allowed 1..{MaxFrameLength})");
        if (_body.Length < length) _body = new byte[Math.Max(length, (uint)_body.Length * 2)];
        long at = _offset;
        _offset += 4;
        if (ReadFully(_body.AsSpan(0, (int)length)) != length)
            throw new AgentProtocolException($"agent stream ends inside the frame at byte {at}");
        _offset += length;
        try
        {
            Parse(new ReadOnlyMemory<byte>(_body, 0, (int)length), frame);
        }
        catch (Exception e) when (e is not AgentProtocolException)
        {
            throw new AgentProtocolException($"agent frame at byte {at} does not decode: {e.Message.ReplaceLineEndings(" ")}");
        }
        if (_lastSeq is { } last && frame.Seq != last + 1)
            throw new AgentProtocolException($"agent frame at byte {at} has seq {frame.Seq} after {last}: frames were lost");
        _lastSeq = frame.Seq;
        return true;
    }

    /// <summary>All of <paramref name="into"/>, fewer bytes only when the stream ends.</summary>
    private int ReadFully(Span<byte> into) => _input.ReadAtLeast(into, into.Length, throwOnEndOfStream: false);

    private static void Parse(ReadOnlyMemory<byte> body, AgentFrame f)
    {
        f.Clear();
        var r = new MessagePackReader(body);
        int keys = r.ReadMapHeader();
        for (int i = 0; i < keys; i++)
        {
            string key = r.ReadString() ?? "";
            switch (key)
            {
                case "type": f.TypeName = r.ReadString() ?? ""; f.Type = TypeOf(f.TypeName); break;
                case "seq": f.Seq = r.ReadUInt64(); break;
                case "vcpu": f.Vcpu = r.ReadUInt64(); break;
                case "cr3": f.Cr3 = r.ReadUInt64(); break;
                case "rip": f.Rip = r.ReadUInt64(); break;
                case "regs": ReadRegisters(ref r, f); break;
                case "insn": f.InsnLength = ReadBin(ref r, f.Insn, 15); break;
                case "mechanism": f.Mechanism = r.ReadString() ?? ""; break;
                case "number":
                    if (!r.TryReadNil()) { f.Number = r.ReadUInt64(); f.NumberKnown = true; }
                    break;
                case "args":
                    int n = r.ReadArrayHeader();
                    for (int k = 0; k < n; k++)
                    {
                        ulong v = r.ReadUInt64();
                        if (k < f.Args.Length) f.Args[k] = v;
                    }
                    f.ArgCount = Math.Min(n, f.Args.Length);
                    break;
                case "args_source": f.ArgsSource = r.ReadString() ?? ""; break;
                case "arg_memory":
                    int m = r.ReadArrayHeader();
                    for (int k = 0; k < m; k++)
                    {
                        if (k < f.ArgMemory.Length) f.ArgMemoryLength[k] = ReadBin(ref r, f.ArgMemory[k], f.ArgMemory[k].Length);
                        else r.Skip();
                    }
                    f.ArgMemoryCount = Math.Min(m, f.ArgMemory.Length);
                    break;
                case "writes_from": f.WritesFrom = r.ReadString() ?? ""; break;
                case "reads_from": f.ReadsFrom = r.ReadString() ?? ""; break;
                case "reads_at": f.ReadAtCount = ReadAddresses(ref r, f.ReadAt); break;
                case "reads": f.ReadCount = ReadBinArray(ref r, f.ReadBytes, f.ReadLength); break;
                case "pages_at": f.ReadPageAtCount = ReadAddresses(ref r, f.ReadPageAt); break;
                case "pages": f.ReadPageCount = ReadBinArray(ref r, f.ReadPages, f.ReadPageLength); break;
                case "arg_count": f.ArgCountFromGuest = (int)Math.Min(r.ReadUInt64(), 64); f.ArgCountKnown = true; break;
                case "name": f.Name = r.ReadString(); break;
                case "object_name": f.ObjectName = r.ReadString(); break;
                case "object_name_arg": f.ObjectNameArg = (int)Math.Min(r.ReadUInt64(), int.MaxValue); break;
                case "ret": f.Ret = r.ReadUInt64(); break;
                case "entry_seq": f.EntrySeq = r.TryReadNil() ? null : r.ReadUInt64(); break;
                case "address": f.Address = r.ReadUInt64(); break;
                case "gfn": f.Gfn = r.ReadUInt64(); break;
                case "size": f.Size = r.ReadUInt64(); break;
                case "bytes": f.BytesLength = ReadBin(ref r, f.Bytes, f.Bytes.Length); break;
                case "layer": f.Layer = r.ReadUInt64(); break;
                case "write_rip": f.WriteRip = r.ReadUInt64(); break;
                case "page": f.PageLength = ReadBin(ref r, f.Page, f.Page.Length); break;
                case "pid": f.Pid = r.ReadUInt64(); break;
                case "eprocess": f.Eprocess = r.ReadUInt64(); break;
                case "target": f.Target = r.ReadBoolean(); break;
                case "from": f.From = r.ReadUInt64(); break;
                case "to": f.To = r.ReadUInt64(); break;
                case "waited_ms": f.WaitedMs = r.ReadUInt64(); break;
                case "frame_seq": f.FrameSeq = r.ReadUInt64(); break;
                case "reason": f.Reason = r.ReadString() ?? ""; break;
                case "protocol": f.Protocol = r.ReadUInt64(); break;
                case "agent": f.Agent = r.ReadString() ?? ""; break;
                case "backend": f.Backend = r.ReadString() ?? ""; break;
                case "domain": f.Domain = r.ReadUInt64(); break;
                case "vcpus": f.Vcpus = r.ReadUInt64(); break;
                case "guest_word_size": f.GuestWordSize = r.ReadUInt64(); break;
                case "guest_os": f.GuestOs = r.ReadString() ?? ""; break;
                case "hypervisor": f.Hypervisor = r.ReadString() ?? ""; break;
                case "ether_syscall_event": f.EtherSyscallEvent = r.ReadBoolean(); break;
                case "options": ReadStringMap(ref r, f.Options); break;
                case "requests" or "frames" or "stalls" or "ignored" or "read_pages": f.Counters[key] = r.ReadUInt64().ToString(); break;
                default: r.Skip(); break;
            }
        }
        // A process frame names its process with "name"; everywhere else "name" is a system call's.
        if (f.Type == AgentFrameType.Process)
        {
            f.ProcessName = f.Name ?? "";
            f.Name = null;
        }
    }

    private static AgentFrameType TypeOf(string name) => name switch
    {
        "hello" => AgentFrameType.Hello,
        "process" => AgentFrameType.Process,
        "switch" => AgentFrameType.Switch,
        "syscall" => AgentFrameType.Syscall,
        "syscall_return" => AgentFrameType.SyscallReturn,
        "step" => AgentFrameType.Step,
        "memory_write" => AgentFrameType.MemoryWrite,
        "unpack" => AgentFrameType.Unpack,
        "stall" => AgentFrameType.Stall,
        "end" => AgentFrameType.End,
        _ => AgentFrameType.Unknown,
    };

    private static int ReadBin(ref MessagePackReader r, byte[] into, int max)
    {
        var seq = r.ReadBytes();
        if (seq is not { } s) return 0;
        int n = (int)Math.Min(s.Length, max);
        System.Buffers.BuffersExtensions.CopyTo(s.Slice(0, n), into);
        return n;
    }

    /// <summary>An array of addresses; those past the frame's room are dropped (their bytes are too).</summary>
    private static int ReadAddresses(ref MessagePackReader r, ulong[] into)
    {
        int n = r.ReadArrayHeader();
        for (int k = 0; k < n; k++)
        {
            ulong v = r.ReadUInt64();
            if (k < into.Length) into[k] = v;
        }
        return Math.Min(n, into.Length);
    }

    /// <summary>An array of byte strings into preallocated buffers; returns how many were kept.</summary>
    private static int ReadBinArray(ref MessagePackReader r, byte[][] into, int[] lengths)
    {
        int n = r.ReadArrayHeader();
        for (int k = 0; k < n; k++)
        {
            if (k < into.Length) lengths[k] = ReadBin(ref r, into[k], into[k].Length);
            else r.Skip();
        }
        return Math.Min(n, into.Length);
    }

    private static void ReadRegisters(ref MessagePackReader r, AgentFrame f)
    {
        f.HasRegisters = true;
        int n = r.ReadMapHeader();
        for (int i = 0; i < n; i++)
        {
            string name = r.ReadString() ?? "";
            ulong value = r.ReadUInt64();
            switch (name)
            {
                case "cr0": f.Cr0 = value; break;
                case "cr4": f.Cr4 = value; break;
                case "efer": f.Efer = value; break;
                default:
                    int slot = Array.IndexOf(Formats.Model.Registers.Names, name);
                    if (slot >= 0) f.Registers[slot] = value;
                    break;
            }
        }
    }

    private static void ReadStringMap(ref MessagePackReader r, Dictionary<string, string> into)
    {
        into.Clear();
        int n = r.ReadMapHeader();
        for (int i = 0; i < n; i++)
        {
            string key = r.ReadString() ?? "";
            into[key] = r.NextMessagePackType switch
            {
                MessagePackType.Nil => ReadNil(ref r),
                MessagePackType.Boolean => r.ReadBoolean() ? "true" : "false",
                MessagePackType.Integer => r.ReadUInt64().ToString(),
                MessagePackType.String => r.ReadString() ?? "",
                _ => SkipValue(ref r),
            };
        }
    }

    private static string ReadNil(ref MessagePackReader r)
    {
        r.ReadNil();
        return "";
    }

    private static string SkipValue(ref MessagePackReader r)
    {
        r.Skip();
        return "?";
    }

    internal static string Utf8(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);
}
