using CsCheck;
using Ether.Replay.Formats.LogInternal.Prediction;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// A generated recording session: what a backend would feed a TraceWriter, step by step, covering
/// every event kind. <see cref="Play"/> writes it and returns what a reader must give back.
/// </summary>
internal sealed record TraceScript(Group[] Groups)
{
    public static readonly (int Pid, int Tid)[] Threads = [(100, 100), (100, 101), (200, 200), (7, 0)];

    public sealed record Expected(List<string> Events, Dictionary<long, Dictionary<int, RegisterFile>> RegistersAfterStep, long[] Counts);

    public Expected Play(TraceWriter w)
    {
        var events = new List<string>();
        var statesAfter = new Dictionary<long, Dictionary<int, RegisterFile>>();
        var live = new Dictionary<int, RegisterFile>();
        var nextRip = new Dictionary<int, ulong>();
        var counts = new long[EventKinds.Limit];
        var ops = new PredictedOps();
        (int Thread, ulong Rip, byte[] Code)? stepInstruction = null;
        foreach (var g in Groups)
        {
            if (g.Step is { } s)
            {
                var (pid, tid) = Threads[s.Thread];
                if (s.Instruction)
                {
                    ulong rip = s.FallThrough && nextRip.TryGetValue(s.Thread, out var n) ? n : 0x400000UL + (ulong)s.RipPick * 0x10 + (ulong)pid * 0x1000000;
                    w.Instruction(pid, tid, rip, s.Code);
                    stepInstruction = (s.Thread, rip, s.Code);
                    nextRip[s.Thread] = rip + (ulong)s.Code.Length;
                    events.Add(EventText.Describe(new InstructionEvent { Step = w.Step, Pid = pid, Tid = tid, Rip = rip, Bytes = s.Code }));
                    counts[(int)EventKind.Instruction]++;
                }
                else
                {
                    w.Tick();
                    stepInstruction = null;
                }
            }
            foreach (var op in g.Ops)
            {
                var (pid, tid) = Threads[op.Thread];
                switch (op)
                {
                    case RegistersOp r:
                        var file = live.TryGetValue(op.Thread, out var f) ? f : new RegisterFile();
                        if (r.Predicted && stepInstruction is { } i && i.Thread == op.Thread)
                        {
                            // What the instruction computes (as the writer and reader predict it); Changes then make it wrong.
                            ops.Clear();
                            RegisterPredictor.Apply(ops.Get(0, i.Code, i.Rip, PredictedOps.Bitness(file)), ref file);
                        }
                        foreach (var (slot, value) in r.Changes) file[slot] = value;
                        live[op.Thread] = file;
                        w.Registers(pid, tid, file);
                        break;
                    case WriteOp m:
                        var flags = (m.Kernel ? MemoryWriteFlags.Kernel : 0) | (m.Old != null ? MemoryWriteFlags.HasOldValue : 0);
                        long size = m.Value.Length + m.Extra;
                        w.MemoryWrite(pid, tid, m.Address, size, m.Value, flags, m.Old);
                        if (m.Extra > 0) flags |= MemoryWriteFlags.Truncated;
                        events.Add(EventText.Describe(new MemoryWriteEvent
                        {
                            Step = w.Step, Pid = pid, Tid = tid, Address = m.Address, Size = size, Value = m.Value, OldValue = m.Old, Flags = flags,
                        }));
                        counts[(int)EventKind.MemoryWrite]++;
                        break;
                    case SideOp side:
                        var e = side.Make();
                        e.Pid = pid;
                        e.Tid = tid;
                        w.Write(e);
                        e.Step = w.Step;
                        events.Add(EventText.Describe(e));
                        counts[(int)e.Kind]++;
                        if (e is ThreadExitEvent) live.Remove(op.Thread);
                        if (e is ProcessExitEvent)
                            foreach (var t in live.Keys.Where(t => Threads[t].Pid == pid).ToList()) live.Remove(t);
                        break;
                }
            }
            statesAfter[w.Step] = new Dictionary<int, RegisterFile>(live);
        }
        return new Expected(events, statesAfter, counts);
    }

    // ---- generators ----

    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.Char['a', 'z'].Array[0, 12].Select(c => new string(c)),
        Gen.Const("/usr/lib/x86_64-linux-gnu/libc.so.6"),
        Gen.Const("\"é漢\\n\"..."));

    private static readonly Gen<byte[]> Code = Gen.Frequency(
        (1, Gen.Const(new byte[] { 0x90 })),
        (1, Gen.Const(new byte[] { 0x48, 0x89, 0xe5 })),
        (1, Gen.Const(new byte[] { 0x0f, 0x05 })),
        (1, Gen.Byte.Array[1, 15]),
        (4, Pick(PredictableCode.All)));

    private static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly Gen<int> Thread = Gen.Int[0, Threads.Length - 1];

    private static readonly Gen<StepOp> Step =
        Gen.Select(Gen.Int[0, 9], Thread, Gen.Int[0, 9], Gen.Int[0, 7], Code,
            (kind, t, ft, pick, code) => new StepOp(kind != 0, t, ft < 7, pick, code));

    /// <summary>Register values that steer the predictor: small and huge numbers, sign boundaries, counts for
    /// shifts and rep, and the code segments that switch decoding to 32-bit.</summary>
    private static readonly Gen<ulong> Value = Gen.OneOf(Gen.ULong, Gen.ULong[0, 300],
        Pick(0UL, 1UL, 0x7fUL, 0x80UL, 0xffUL, 0x7fffUL, 0x8000UL, 0x7fff_ffffUL, 0x8000_0000UL, 0xffff_ffffUL,
            0x7fff_ffff_ffff_ffffUL, 0x8000_0000_0000_0000UL, ulong.MaxValue, 0x23UL, 0x1bUL, 0x33UL, 0x400UL, 0x8d5UL));

    /// <summary>A register report: arbitrary slots, or (Predicted) what the step's instruction computes,
    /// then overwritten in 0-2 slots so the prediction is sometimes exact and sometimes wrong.</summary>
    private static readonly Gen<Op> Registers = Gen.OneOf(
        Gen.Select(Thread, Gen.Select(Gen.Int[0, Model.Registers.Count - 1], Value).Array[0, 4],
            (t, changes) => (Op)new RegistersOp(t, changes, false)),
        Gen.Select(Thread, Gen.Select(Gen.Int[0, Model.Registers.Count - 1], Value).Array[0, 2],
            (t, changes) => (Op)new RegistersOp(t, changes, true)));

    private static readonly Gen<Op> Write =
        Gen.Select(Thread, Gen.ULong, Gen.Byte.Array[0, 40], Gen.Bool, Gen.Bool, Gen.Int[0, 3],
            (t, a, v, k, old, extra) => (Op)new WriteOp(t, a, v, old ? v.Select(b => (byte)~b).ToArray() : null, k, extra == 3 ? 5 : 0));

    private static readonly Gen<Func<TraceEvent>> Side = Gen.OneOf(
        Gen.Select(Text, Gen.Long, Gen.ULong.Array[0, 6], Text.Array[0, 3],
            (abi, n, args, dec) => (Func<TraceEvent>)(() => new SyscallEntryEvent { Abi = abi, Number = n, Name = abi + "_call", Args = args, Decoded = dec })),
        Gen.Select(Text, Gen.Long, Gen.Long, Gen.Long, Text.Array[0, 2],
            (abi, n, ret, err, dec) => (Func<TraceEvent>)(() => new SyscallExitEvent { Abi = abi, Number = n, Name = "x", Return = ret, Errno = err, Decoded = dec })),
        Gen.Select(Gen.ULong, Gen.ULong, Gen.Byte[0, 15], Gen.ULong, Text, Gen.ULong, Gen.ULong,
            (s, e, p, o, n, d, i) => (Func<TraceEvent>)(() => new RegionMapEvent { Start = s, End = e, Protection = (RegionProtection)p, FileOffset = o, Name = n, Device = d, Inode = i })),
        Gen.Select(Gen.ULong, Gen.ULong, (s, e) => (Func<TraceEvent>)(() => new RegionUnmapEvent { Start = s, End = e })),
        Gen.Select(Gen.ULong, Gen.ULong, Gen.Byte[0, 15],
            (s, e, p) => (Func<TraceEvent>)(() => new RegionProtectEvent { Start = s, End = e, Protection = (RegionProtection)p })),
        Gen.Select(Gen.ULong, Text, Gen.Byte.Array[0, 300],
            (a, r, b) => (Func<TraceEvent>)(() => new RegionSnapshotEvent { Address = a, Reason = r, Bytes = b })),
        Gen.Select(Gen.Int, Text, (p, h) => (Func<TraceEvent>)(() => new ProcessStartEvent { ParentPid = p, How = h })),
        Gen.Select(Gen.Int, Gen.Int[0, 64], Gen.Bool,
            (c, s, core) => (Func<TraceEvent>)(() => new ProcessExitEvent { ExitCode = c, Signal = s, CoreDumped = core })),
        Gen.Select(Text, Text.Array[0, 4], (p, a) => (Func<TraceEvent>)(() => new ExecEvent { Path = p, Argv = a })),
        Gen.Int.Select(p => (Func<TraceEvent>)(() => new ThreadStartEvent { ParentTid = p })),
        Gen.Int.Select(c => (Func<TraceEvent>)(() => new ThreadExitEvent { ExitCode = c })),
        Gen.Select(Gen.Int[1, 64], Text, Gen.Int, Gen.ULong, Text,
            (n, name, code, a, d) => (Func<TraceEvent>)(() => new SignalEvent { Signo = n, Name = name, Code = code, Address = a, Disposition = d })),
        Gen.Select(Text, Text, (k, t) => (Func<TraceEvent>)(() => new AnnotationEvent { Key = k, Text = t })),
        Gen.Select(Text, Text, Gen.Int, Gen.ULong, Gen.ULong, Text, Gen.Long, Gen.Byte.Array[0, 40],
            (op, call, fd, d, i, path, n, b) => (Func<TraceEvent>)(() => new FileEvent { Op = op, Call = call, Fd = fd, Device = d, Inode = i, Path = path, Offset = n - 1, Length = n, Size = n + 1, Bytes = b })));

    private static readonly Gen<Op> SideEvent = Gen.Select(Thread, Side, (t, make) => (Op)new SideOp(t, make));

    private static readonly Gen<Op> AnyOp = Gen.Frequency((5, Registers), (3, Write), (1, SideEvent));

    private static readonly Gen<Group> GroupGen =
        Gen.Select(Step, AnyOp.Array[0, 4], (s, ops) => new Group(s, ops));

    public static readonly Gen<TraceScript> Gen_ =
        Gen.Select(AnyOp.Array[0, 3], GroupGen.Array[0, 120],
            (first, groups) => new TraceScript([new Group(null, first), .. groups]));

    public override string ToString() => $"{Groups.Length} groups";
}

internal sealed record Group(StepOp? Step, Op[] Ops);
internal sealed record StepOp(bool Instruction, int Thread, bool FallThrough, int RipPick, byte[] Code);
internal abstract record Op(int Thread);
internal sealed record RegistersOp(int T, (int Slot, ulong Value)[] Changes, bool Predicted) : Op(T);
internal sealed record WriteOp(int T, ulong Address, byte[] Value, byte[]? Old, bool Kernel, int Extra) : Op(T);
internal sealed record SideOp(int T, Func<TraceEvent> Make) : Op(T);
