using Ether.Replay.Formats.Instructions;
using Iced.Intel;
using Register = Ether.Replay.Formats.Model.Register;

namespace Ether.Replay.Analyzer.Replay;

/// <summary>
/// What each instruction read, for a pass over a trace in log order: the caller reports every event
/// (<see cref="Memory"/> takes snapshots, writes, maps, execs, forks) and each instruction with its
/// thread's registers before it; the instruction's read ranges are computed at once (from those
/// registers) and their values resolved by <see cref="Resolve"/> — which the caller calls before it
/// applies anything but the snapshots logged right after the instruction (the recorder takes a
/// snapshot of a page the trace has no bytes for just before the step that reads it).
///
/// Each chunk's code is decoded once per code definition (a chunk stores each address's bytes once).
/// Allocates nothing per instruction.
/// </summary>
internal sealed class StepReads
{
    private readonly MemoryOperands _operands;
    private readonly MemoryRange[] _ranges = new MemoryRange[MemoryOperands.MaxRanges];
    private readonly SliceReader _reader = new();
    private readonly Decoder _decoder64, _decoder32;
    // Per code offset of the current chunk: 0 not decoded yet, else 1 + index into _decoded.
    private int[] _slot = [];
    private Instruction[] _decoded = new Instruction[256];
    private bool[] _mayRead = new bool[256];
    private int _decodedCount;
    private DecodedChunk? _chunk;

    private byte[] _values = new byte[512];
    private bool[] _known = new bool[512];
    private readonly int[] _valueOffset = new int[MemoryOperands.MaxRanges];
    private readonly bool[] _complete = new bool[MemoryOperands.MaxRanges];

    private readonly int _traceBitness;

    /// <param name="xsaveSize">The recording CPU's XSAVE area (what an XRSTOR reads).</param>
    /// <param name="traceBitness">32 for an x86 trace (a 32-bit guest under Xen), else 64.</param>
    public StepReads(int xsaveSize, int traceBitness = 64)
    {
        _traceBitness = traceBitness;
        _operands = new MemoryOperands(xsaveSize);
        _decoder64 = Decoder.Create(64, _reader);
        _decoder32 = Decoder.Create(32, _reader);
    }

    public PageMemory Memory { get; } = new();

    /// <summary>An instruction whose reads wait for <see cref="Resolve"/>.</summary>
    public bool Pending { get; private set; }
    public long PendingStep { get; private set; }
    public int PendingPid { get; private set; }
    public int PendingTid { get; private set; }
    public ulong PendingRip { get; private set; }
    /// <summary>The pending instruction's addresses depend on a vector register the trace does not hold (a gather).</summary>
    public bool PendingUnresolved { get; private set; }
    private int _count;

    /// <summary>Reads resolved by the last <see cref="Resolve"/>.</summary>
    public int Count => _count;
    public MemoryRange Range(int k) => _ranges[k];
    public ReadOnlySpan<byte> Value(int k) => _values.AsSpan(_valueOffset[k], _ranges[k].Size);
    public ReadOnlySpan<bool> KnownBytes(int k) => _known.AsSpan(_valueOffset[k], _ranges[k].Size);
    /// <summary>Every byte of read <paramref name="k"/> is in the trace.</summary>
    public bool Complete(int k) => _complete[k];

    /// <summary>Instruction <paramref name="i"/> of <paramref name="c"/> is about to run with <paramref name="before"/>.
    /// Returns whether it reads memory (then it is pending until <see cref="Resolve"/>).</summary>
    public bool OnInstruction(DecodedChunk c, int i, int pid, int tid, in RegisterFile before)
    {
        if (!ReferenceEquals(c, _chunk) || _slot.Length < c.Code.Length || _chunkBase != c.Info.BaseStep) BeginChunk(c);
        int offset = c.InstructionCodeOffset[i];
        int bitness = CodeBitness(before, _traceBitness);
        int slot = _slot[offset] - 1;
        if (slot < 0 || _decoded[slot].CodeSize != (bitness == 32 ? CodeSize.Code32 : CodeSize.Code64) || _decoded[slot].IP != c.InstructionRip[i])
            slot = Decode(c, i, offset, bitness);
        if (!_mayRead[slot]) return false;
        int n = _operands.ComputeReads(_decoded[slot], before, _ranges);
        Pending = true;
        PendingStep = c.InstructionStep[i];
        PendingPid = pid;
        PendingTid = tid;
        PendingRip = c.InstructionRip[i];
        PendingUnresolved = n == MemoryOperands.Unresolved;
        _count = Math.Max(n, 0);
        return true;
    }

    private long _chunkBase = -1;

    private void BeginChunk(DecodedChunk c)
    {
        _chunk = c;
        _chunkBase = c.Info.BaseStep;
        if (_slot.Length < c.Code.Length) _slot = new int[Math.Max(c.Code.Length, _slot.Length * 2)];
        Array.Clear(_slot, 0, c.Code.Length);
        _decodedCount = 0;
    }

    private int Decode(DecodedChunk c, int i, int offset, int bitness)
    {
        int length = c.InstructionLength[i];
        _reader.Set(c.Code, offset, length);
        var decoder = bitness == 32 ? _decoder32 : _decoder64;
        decoder.IP = c.InstructionRip[i];
        if (_decodedCount == _decoded.Length)
        {
            Array.Resize(ref _decoded, _decoded.Length * 2);
            Array.Resize(ref _mayRead, _mayRead.Length * 2);
        }
        int slot = _decodedCount++;
        decoder.Decode(out _decoded[slot]);
        // Exactly the bytes that ran: an instruction that needs more is not one the CPU executed.
        _mayRead[slot] = !_decoded[slot].IsInvalid && _decoded[slot].Length == length && _operands.MayRead(_decoded[slot]);
        _slot[offset] = slot + 1;
        return slot;
    }

    /// <summary>Reads the pending instruction's ranges from <see cref="Memory"/> (as it is now) and ends
    /// the pending state; the results stay available through <see cref="Count"/>, <see cref="Value"/>, ...</summary>
    public void Resolve()
    {
        if (!Pending) return;
        Pending = false;
        int total = 0;
        for (int k = 0; k < _count; k++) total += _ranges[k].Size;
        if (total > _values.Length)
        {
            _values = new byte[Math.Max(total, _values.Length * 2)];
            _known = new bool[_values.Length];
        }
        int at = 0;
        for (int k = 0; k < _count; k++)
        {
            int size = _ranges[k].Size;
            _valueOffset[k] = at;
            _complete[k] = Memory.Read(PendingPid, _ranges[k].Address, _values.AsSpan(at, size), _known.AsSpan(at, size));
            at += size;
        }
    }

    /// <summary>Whether <paramref name="e"/> is a snapshot the recorder logged right after the pending
    /// instruction (memory as the step began): it must reach <see cref="Memory"/> before <see cref="Resolve"/>.</summary>
    public bool IsPreStepSnapshot(TraceEvent e) => Pending && e is RegionSnapshotEvent s && s.Step == PendingStep && s.Pid == PendingPid;

    /// <summary>The width of the code a step runs: always 32 in an x86 trace (a 32-bit guest: its
    /// selectors are not Linux's); in an x86-64 trace 32 in a compat code segment (0x23 on Linux and Windows).</summary>
    public static int CodeBitness(in RegisterFile before, int traceBitness) =>
        traceBitness == 32 || before[Register.Cs] == 0x23 ? 32 : 64;

    /// <summary>The XSAVE size a trace's header names (the recorder's <c>xsave_size</c>), else the smallest area.</summary>
    public static int XsaveSizeOf(TraceHeader header) =>
        header.BackendParameters.TryGetValue("xsave_size", out var text) && int.TryParse(text, out int size) ? size : MemoryOperands.MinimumXsaveArea;

    /// <summary>Applies a side event's effect on memory (snapshots, maps, unmaps, execs, forks, exits).</summary>
    public void OnMemoryEvent(TraceEvent e)
    {
        switch (e)
        {
            case RegionSnapshotEvent s: Memory.Observe(s.Pid, s.Address, s.Bytes); break;
            case RegionMapEvent m: Memory.Forget(m.Pid, m.Start, m.End); break;
            case RegionUnmapEvent u: Memory.Forget(u.Pid, u.Start, u.End); break;
            case ExecEvent x: Memory.ForgetProcess(x.Pid); break;
            case ProcessExitEvent x: Memory.ForgetProcess(x.Pid); break;
            case ProcessStartEvent { ParentPid: > 0, How: "fork" or "vfork" or "clone" } ps: Memory.Fork(ps.ParentPid, ps.Pid); break;
            case ProcessStartEvent ps: Memory.ForgetProcess(ps.Pid); break;
        }
    }

    /// <summary>Iced reads the bytes of one instruction out of the chunk's code, without a copy or an allocation.</summary>
    private sealed class SliceReader : CodeReader
    {
        private byte[] _data = [];
        private int _position, _end;

        public void Set(byte[] data, int offset, int length)
        {
            _data = data;
            _position = offset;
            _end = offset + length;
        }

        public override int ReadByte() => _position < _end ? _data[_position++] : -1;
    }
}
