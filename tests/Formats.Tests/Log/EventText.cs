namespace Ether.Replay.Formats.Tests.Log;

/// <summary>One comparable line per event: every field that must survive a round trip.</summary>
internal static class EventText
{
    public static string Describe(TraceEvent e)
    {
        string head = $"{e.Kind} s={e.Step} p={e.Pid} t={e.Tid}";
        return e switch
        {
            InstructionEvent i => $"{head} rip={i.Rip:x} {Hex(i.Bytes)}",
            MemoryWriteEvent m => $"{head} a={m.Address:x} n={m.Size} f={m.Flags} v={Hex(m.Value)} o={(m.OldValue == null ? "-" : Hex(m.OldValue))}",
            SyscallEntryEvent s => $"{head} {s.Abi} {s.Number} {s.Name} [{string.Join(",", s.Args)}] [{string.Join("|", s.Decoded)}]",
            SyscallExitEvent s => $"{head} {s.Abi} {s.Number} {s.Name} ret={s.Return} err={s.Errno} [{string.Join("|", s.Decoded)}]",
            RegionMapEvent m => $"{head} {m.Start:x}-{m.End:x} {m.Protection} off={m.FileOffset} {m.Name} dev={m.Device} ino={m.Inode}",
            RegionUnmapEvent u => $"{head} {u.Start:x}-{u.End:x}",
            RegionProtectEvent p => $"{head} {p.Start:x}-{p.End:x} {p.Protection}",
            RegionSnapshotEvent s => $"{head} {s.Address:x} {s.Reason} {Hex(s.Bytes)}",
            ProcessStartEvent p => $"{head} parent={p.ParentPid} {p.How}",
            ProcessExitEvent p => $"{head} code={p.ExitCode} sig={p.Signal} core={p.CoreDumped}",
            ExecEvent x => $"{head} {x.Path} [{string.Join(" ", x.Argv)}]",
            ThreadStartEvent t => $"{head} parent={t.ParentTid}",
            ThreadExitEvent t => $"{head} code={t.ExitCode}",
            SignalEvent s => $"{head} {s.Signo} {s.Name} {s.Code} {s.Address:x} {s.Disposition}",
            AnnotationEvent a => $"{head} {a.Key}={a.Text}",
            FileEvent f => $"{head} {f.Op} {f.Call} fd={f.Fd} {f.Device}:{f.Inode} {f.Path} off={f.Offset} n={f.Length} size={f.Size} {Hex(f.Bytes)}",
            KeyframeEvent k => $"{head} {k.Registers}",
            RegisterChangeEvent r => $"{head} mask={r.Mask:x}",
            _ => head,
        };
    }

    private static string Hex(byte[] b) => Convert.ToHexString(b);
}
