using Ether.Replay.Formats.Model;
using MessagePack;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// The fields of each side-event kind, in file order (docs/trace-format.md, "Side events").
/// A reader takes the fields it knows by position and skips any that follow, so a kind can gain
/// fields at its end without a format version bump.
/// </summary>
internal static class SideEventCodec
{
    /// <summary>[kind, step delta, thread index, writes-before delta, registers-before delta].</summary>
    public const int HeadLength = 5;

    public static int FieldCount(TraceEvent e) => e is RawSideEvent raw ? raw.FieldCount : FieldCount(e.Kind);

    public static int FieldCount(EventKind kind) => kind switch
    {
        EventKind.Keyframe => 1,
        EventKind.SyscallEntry => 5,
        EventKind.SyscallExit => 6,
        EventKind.RegionMap => 7,
        EventKind.RegionUnmap => 2,
        EventKind.RegionProtect => 3,
        EventKind.RegionSnapshot => 3,
        EventKind.ProcessStart => 2,
        EventKind.ProcessExit => 3,
        EventKind.Exec => 2,
        EventKind.ThreadStart => 1,
        EventKind.ThreadExit => 1,
        EventKind.Signal => 5,
        EventKind.Annotation => 2,
        EventKind.File => 10,
        _ => throw new ArgumentException($"{kind} is not written as a side event"),
    };

    public static void WriteFields(ref MessagePackWriter w, TraceEvent e)
    {
        switch (e)
        {
            case KeyframeEvent k:
                w.WriteArrayHeader(Registers.Count);
                for (int i = 0; i < Registers.Count; i++) w.Write(k.Registers[i]);
                break;
            case SyscallEntryEvent s:
                w.Write(s.Abi); w.Write(s.Number); w.Write(s.Name);
                w.WriteArrayHeader(s.Args.Length);
                foreach (var a in s.Args) w.Write(a);
                WriteStrings(ref w, s.Decoded);
                break;
            case SyscallExitEvent s:
                w.Write(s.Abi); w.Write(s.Number); w.Write(s.Name); w.Write(s.Return); w.Write(s.Errno);
                WriteStrings(ref w, s.Decoded);
                break;
            case RegionMapEvent m:
                w.Write(m.Start); w.Write(m.End); w.Write((byte)m.Protection); w.Write(m.FileOffset); w.Write(m.Name);
                w.Write(m.Device); w.Write(m.Inode);
                break;
            case RegionUnmapEvent u:
                w.Write(u.Start); w.Write(u.End);
                break;
            case RegionProtectEvent p:
                w.Write(p.Start); w.Write(p.End); w.Write((byte)p.Protection);
                break;
            case RegionSnapshotEvent s:
                w.Write(s.Address); w.Write(s.Reason); w.Write(s.Bytes);
                break;
            case ProcessStartEvent p:
                w.Write(p.ParentPid); w.Write(p.How);
                break;
            case ProcessExitEvent p:
                w.Write(p.ExitCode); w.Write(p.Signal); w.Write(p.CoreDumped);
                break;
            case ExecEvent x:
                w.Write(x.Path); WriteStrings(ref w, x.Argv);
                break;
            case ThreadStartEvent t:
                w.Write(t.ParentTid);
                break;
            case ThreadExitEvent t:
                w.Write(t.ExitCode);
                break;
            case SignalEvent s:
                w.Write(s.Signo); w.Write(s.Name); w.Write(s.Code); w.Write(s.Address); w.Write(s.Disposition);
                break;
            case AnnotationEvent a:
                w.Write(a.Key); w.Write(a.Text);
                break;
            case FileEvent f:
                w.Write(f.Op); w.Write(f.Call); w.Write(f.Fd); w.Write(f.Device); w.Write(f.Inode); w.Write(f.Path);
                w.Write(f.Offset); w.Write(f.Length); w.Write(f.Size); w.Write(f.Bytes);
                break;
            case RawSideEvent raw:
                w.WriteRaw(raw.EncodedFields);
                break;
            default:
                throw new ArgumentException($"{e.Kind} is not written as a side event");
        }
    }

    private static void WriteStrings(ref MessagePackWriter w, string[] values)
    {
        w.WriteArrayHeader(values.Length);
        foreach (var v in values) w.Write(v);
    }

    /// <summary>Reads the fields of a known kind (the head already consumed); null for an unknown kind.
    /// <paramref name="fields"/> is how many array elements follow the head; extra ones are skipped.</summary>
    public static TraceEvent? ReadFields(ref MessagePackReader r, byte kind, int fields)
    {
        if (kind == 0 || kind >= EventKinds.Limit || IsColumnar((EventKind)kind))
        {
            Skip(ref r, fields);
            return null;
        }
        int known = FieldCount((EventKind)kind);
        if ((EventKind)kind == EventKind.RegionMap && fields < RegionMapFields) known = 5; // before device and inode were added
        if (fields < known) throw new CorruptDataException($"side event of kind {kind} has {fields} fields, fewer than its {known}");
        TraceEvent e = (EventKind)kind switch
        {
            EventKind.Keyframe => ReadKeyframe(ref r),
            EventKind.SyscallEntry => new SyscallEntryEvent
            {
                Abi = Str(ref r), Number = r.ReadInt64(), Name = Str(ref r), Args = ReadULongs(ref r), Decoded = ReadStrings(ref r),
            },
            EventKind.SyscallExit => new SyscallExitEvent
            {
                Abi = Str(ref r), Number = r.ReadInt64(), Name = Str(ref r), Return = r.ReadInt64(), Errno = r.ReadInt64(), Decoded = ReadStrings(ref r),
            },
            EventKind.RegionMap => ReadRegionMap(ref r, fields),
            EventKind.RegionUnmap => new RegionUnmapEvent { Start = r.ReadUInt64(), End = r.ReadUInt64() },
            EventKind.RegionProtect => new RegionProtectEvent { Start = r.ReadUInt64(), End = r.ReadUInt64(), Protection = (RegionProtection)r.ReadByte() },
            EventKind.RegionSnapshot => new RegionSnapshotEvent { Address = r.ReadUInt64(), Reason = Str(ref r), Bytes = Bin(ref r) },
            EventKind.ProcessStart => new ProcessStartEvent { ParentPid = r.ReadInt32(), How = Str(ref r) },
            EventKind.ProcessExit => new ProcessExitEvent { ExitCode = r.ReadInt32(), Signal = r.ReadInt32(), CoreDumped = r.ReadBoolean() },
            EventKind.Exec => new ExecEvent { Path = Str(ref r), Argv = ReadStrings(ref r) },
            EventKind.ThreadStart => new ThreadStartEvent { ParentTid = r.ReadInt32() },
            EventKind.ThreadExit => new ThreadExitEvent { ExitCode = r.ReadInt32() },
            EventKind.Signal => new SignalEvent
            {
                Signo = r.ReadInt32(), Name = Str(ref r), Code = r.ReadInt32(), Address = r.ReadUInt64(), Disposition = Str(ref r),
            },
            EventKind.Annotation => new AnnotationEvent { Key = Str(ref r), Text = Str(ref r) },
            EventKind.File => new FileEvent
            {
                Op = Str(ref r), Call = Str(ref r), Fd = r.ReadInt32(), Device = r.ReadUInt64(), Inode = r.ReadUInt64(), Path = Str(ref r),
                Offset = r.ReadInt64(), Length = r.ReadInt64(), Size = r.ReadInt64(), Bytes = Bin(ref r),
            },
            _ => throw new CorruptDataException($"kind {kind} is not a side event"),
        };
        Skip(ref r, fields - known);
        return e;
    }

    /// <summary>The side column cut into its events: (kind, the event's whole encoded array).</summary>
    public static List<(byte Kind, ReadOnlyMemory<byte> Bytes)> Split(ReadOnlyMemory<byte> column)
    {
        var events = new List<(byte, ReadOnlyMemory<byte>)>();
        var r = new MessagePackReader(column);
        while (!r.End)
        {
            long start = r.Consumed;
            var peek = r.CreatePeekReader();
            if (peek.ReadArrayHeader() < 1) throw new CorruptDataException("side event without a kind");
            byte kind = peek.ReadByte();
            r.Skip();
            events.Add((kind, column.Slice((int)start, (int)(r.Consumed - start))));
        }
        return events;
    }

    /// <summary>Region-map gained device and inode (fields 6 and 7); older writers wrote 5 fields.</summary>
    private const int RegionMapFields = 7;

    private static RegionMapEvent ReadRegionMap(ref MessagePackReader r, int fields)
    {
        var m = new RegionMapEvent { Start = r.ReadUInt64(), End = r.ReadUInt64(), Protection = (RegionProtection)r.ReadByte(), FileOffset = r.ReadUInt64(), Name = Str(ref r) };
        if (fields >= RegionMapFields) (m.Device, m.Inode) = (r.ReadUInt64(), r.ReadUInt64());
        return m;
    }


    /// <summary>Kinds stored in columns; a side event claiming one of them is skipped like an unknown kind.</summary>
    private static bool IsColumnar(EventKind k) => k is EventKind.Instruction or EventKind.RegisterChange or EventKind.MemoryWrite;

    private static KeyframeEvent ReadKeyframe(ref MessagePackReader r)
    {
        int n = r.ReadArrayHeader();
        var k = new KeyframeEvent();
        for (int i = 0; i < n; i++)
        {
            ulong v = r.ReadUInt64();
            if (i < Registers.Count) k.Registers[i] = v;
        }
        return k;
    }

    private static void Skip(ref MessagePackReader r, int count)
    {
        for (int i = 0; i < count; i++) r.Skip();
    }

    private static string Str(ref MessagePackReader r) => r.ReadString() ?? "";

    private static byte[] Bin(ref MessagePackReader r)
    {
        var seq = r.ReadBytes();
        return seq is { } s ? System.Buffers.BuffersExtensions.ToArray(s) : [];
    }

    private static string[] ReadStrings(ref MessagePackReader r)
    {
        if (r.TryReadNil()) return [];
        int n = r.ReadArrayHeader();
        var values = new string[n];
        for (int i = 0; i < n; i++) values[i] = Str(ref r);
        return values;
    }

    private static ulong[] ReadULongs(ref MessagePackReader r)
    {
        if (r.TryReadNil()) return [];
        int n = r.ReadArrayHeader();
        var values = new ulong[n];
        for (int i = 0; i < n; i++) values[i] = r.ReadUInt64();
        return values;
    }
}
