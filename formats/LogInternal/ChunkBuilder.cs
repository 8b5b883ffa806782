using System.Runtime.CompilerServices;
using Ether.Replay.Formats.LogInternal.Prediction;
using Ether.Replay.Formats.Model;
using MessagePack;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// Accumulates one chunk's columns while the writer is fed events. Holds only chunk-local state
/// (thread table, code definitions, running deltas) so every chunk decodes on its own.
/// </summary>
internal sealed class ChunkBuilder : IDisposable
{
    private readonly ByteBuffer[] _columns = new ByteBuffer[ChunkColumns.Count];
    private readonly Dictionary<(int Pid, int Tid), int> _threadIndex = new();
    private readonly List<(int Pid, int Tid)> _threads = new();
    private readonly CodeMap _code = new();
    private readonly PredictedOps _ops = new();
    private ulong[] _expectedRip = new ulong[16];

    public int Seq { get; private set; }
    public long BaseStep { get; private set; }
    public long Step { get; private set; }
    public long OpenedAtTicks { get; private set; }
    public bool IsOpen { get; private set; }
    public long[] Counts { get; } = new long[EventKinds.Limit];

    // Clock column: the pending (ticks, instructions) pair.
    private long _runTicks, _runInstructions;

    // Instruction columns.
    private int _instructionCount;
    private int _currentThread = -1;
    private int _lastSwitchInstruction;
    private int _lastCodeInstruction;
    private long _fallThrough;
    /// <summary>Thread index of the instruction at the current step, -1 when the step has none.</summary>
    private int _stepThread = -1;
    /// <summary>The current step's instruction: rip and where its bytes are in the code column.</summary>
    private ulong _stepRip;
    private int _stepCodeOffset, _stepCodeLength, _stepDefinition;
    /// <summary>Code definitions stored in this chunk so far.</summary>
    private int _definitions;
    /// <summary>The step whose instruction's register change was predicted already (one prediction per step).</summary>
    private long _predictedStep;

    // Register, write and side columns: running deltas.
    private long _previousRegisterStep, _previousWriteStep, _previousSideStep;
    private ulong _previousWriteEnd;
    private int _registerCount, _writeCount, _previousSideWrites, _previousSideRegisters;

    /// <summary>False: register changes are stored without prediction (format version 1).</summary>
    private readonly bool _predict;

    public ChunkBuilder(bool predict = true)
    {
        _predict = predict;
        for (int i = 0; i < _columns.Length; i++) _columns[i] = new ByteBuffer(i == (int)ChunkColumn.InstructionRips ? 1 << 16 : 4096);
    }

    private ByteBuffer Col(ChunkColumn c) => _columns[(int)c];

    public int EncodedBytes
    {
        get
        {
            int n = 0;
            foreach (var c in _columns) n += c.Length;
            return n;
        }
    }

    public long StepsInChunk => Step - BaseStep;

    public void Open(int seq, long baseStep)
    {
        foreach (var c in _columns) c.Clear();
        _threadIndex.Clear();
        _threads.Clear();
        _code.Clear();
        _ops.Clear();
        _definitions = 0;
        Array.Clear(Counts);
        Seq = seq;
        BaseStep = Step = baseStep;
        OpenedAtTicks = Environment.TickCount64;
        IsOpen = true;
        _runTicks = _runInstructions = 0;
        _instructionCount = 0;
        _currentThread = -1;
        _lastSwitchInstruction = _lastCodeInstruction = 0;
        _fallThrough = 0;
        _stepThread = -1;
        _predictedStep = -1;
        _previousRegisterStep = _previousWriteStep = _previousSideStep = baseStep;
        _previousWriteEnd = 0;
        _registerCount = _writeCount = _previousSideWrites = _previousSideRegisters = 0;
    }

    public int ThreadIndex(int pid, int tid)
    {
        if (_threadIndex.TryGetValue((pid, tid), out int index)) return index;
        index = _threads.Count;
        _threads.Add((pid, tid));
        _threadIndex.Add((pid, tid), index);
        var threads = Col(ChunkColumn.Threads);
        threads.WriteZigzag(pid);
        threads.WriteZigzag(tid);
        if (index >= _expectedRip.Length) Array.Resize(ref _expectedRip, index * 2);
        _expectedRip[index] = 0;
        return index;
    }

    public void Tick()
    {
        if (_runInstructions > 0) FlushClockPair();
        _runTicks++;
        Step++;
        _stepThread = -1;
        Counts[0]++; // slot 0 counts ticks; it is not an event kind
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Instruction(int pid, int tid, ulong rip, ReadOnlySpan<byte> code)
    {
        _runInstructions++;
        Step++;
        int thread = _currentThread;
        if (thread < 0 || _threads[thread].Pid != pid || _threads[thread].Tid != tid)
            thread = SwitchThread(pid, tid);
        _stepThread = thread;

        if (!_code.TryGet(pid, rip, out int offset, out int length, out int definition)
            || !Col(ChunkColumn.InstructionCode).WrittenSpan.Slice(offset, length).SequenceEqual(code))
        {
            offset = DefineCode(pid, rip, code);
            length = code.Length;
            definition = _definitions - 1;
        }
        _stepRip = rip;
        _stepCodeOffset = offset;
        _stepCodeLength = length;
        _stepDefinition = definition;

        ulong expected = _expectedRip[thread];
        if (rip == expected)
        {
            _fallThrough++;
        }
        else
        {
            var rips = Col(ChunkColumn.InstructionRips);
            rips.WriteVarint((ulong)_fallThrough);
            rips.WriteZigzag((long)(rip - expected));
            _fallThrough = 0;
        }
        _expectedRip[thread] = rip + (ulong)length;
        _instructionCount++;
        Counts[(int)EventKind.Instruction]++;
    }

    private int SwitchThread(int pid, int tid)
    {
        int thread = ThreadIndex(pid, tid);
        var col = Col(ChunkColumn.InstructionThreads);
        col.WriteVarint((ulong)(_instructionCount - _lastSwitchInstruction));
        col.WriteVarint((ulong)thread);
        _lastSwitchInstruction = _instructionCount;
        _currentThread = thread;
        return thread;
    }

    /// <summary>Stores the bytes of (pid, rip) in the code column; returns where they are.</summary>
    private int DefineCode(int pid, ulong rip, ReadOnlySpan<byte> code)
    {
        if (code.Length is < 1 or > 15)
            throw new ArgumentException($"instruction at 0x{rip:x} has {code.Length} bytes; x86 instructions have 1 to 15", nameof(code));
        var col = Col(ChunkColumn.InstructionCode);
        col.WriteVarint((ulong)(_instructionCount - _lastCodeInstruction));
        col.WriteByte((byte)code.Length);
        int offset = col.Length;
        col.WriteBytes(code);
        _lastCodeInstruction = _instructionCount;
        _code.Set(pid, rip, offset, code.Length, _definitions++);
        return offset;
    }

    private void FlushClockPair()
    {
        var clock = Col(ChunkColumn.Clock);
        clock.WriteVarint((ulong)_runTicks);
        clock.WriteVarint((ulong)_runInstructions);
        _runTicks = _runInstructions = 0;
    }

    /// <summary>0 when the thread is the one whose instruction is the current step, else index + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ThreadRef(int thread) => thread == _stepThread ? 0UL : (ulong)thread + 1;

    /// <summary>Whether <paramref name="thread"/> executed the current step (so its next instruction gives rip).</summary>
    public bool IsStepThread(int thread) => thread == _stepThread;

    /// <summary>A register change of <paramref name="thread"/> (<paramref name="mask"/>: the slots that differ,
    /// never 0). The first change of the thread that executed the current step's instruction is stored
    /// against the registers that instruction predicts (docs/trace-format.md, "Register prediction"):
    /// the mask as its difference from the predicted mask, each value as its distance from the prediction.</summary>
    public void RegisterChange(int thread, uint mask, in RegisterFile before, in RegisterFile after)
    {
        Col(ChunkColumn.RegisterSteps).WriteVarint((ulong)(Step - _previousRegisterStep));
        _previousRegisterStep = Step;
        Col(ChunkColumn.RegisterThreads).WriteVarint(ThreadRef(thread));
        var values = Col(ChunkColumn.RegisterValues);
        if (_predict && thread == _stepThread && Step != _predictedStep)
        {
            _predictedStep = Step;
            var code = Col(ChunkColumn.InstructionCode).WrittenSpan.Slice(_stepCodeOffset, _stepCodeLength);
            ref readonly var op = ref _ops.Get(_stepDefinition, code, _stepRip, PredictedOps.Bitness(before));
            if (op.Kind != PredictKind.None)
            {
                var predicted = before;
                uint predictedMask = RegisterPredictor.Predict(op, ref predicted, stored: 0);
                Col(ChunkColumn.RegisterMasks).WriteVarint(mask ^ predictedMask);
                WriteValues(values, mask, predicted, after);
                CountRegisterChange();
                return;
            }
        }
        Col(ChunkColumn.RegisterMasks).WriteVarint(mask);
        WriteValues(values, mask, before, after);
        CountRegisterChange();
    }

    /// <summary>Per slot of <paramref name="mask"/>, lowest first: zigzag(new - basis), 64-bit wrapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteValues(ByteBuffer values, uint mask, in RegisterFile basis, in RegisterFile after)
    {
        uint m = mask;
        while (m != 0)
        {
            int slot = System.Numerics.BitOperations.TrailingZeroCount(m);
            m &= m - 1;
            values.WriteZigzag((long)(after[slot] - basis[slot]));
        }
    }

    private void CountRegisterChange()
    {
        _registerCount++;
        Counts[(int)EventKind.RegisterChange]++;
    }

    public void MemoryWrite(int thread, ulong address, long size, MemoryWriteFlags flags, ReadOnlySpan<byte> value, ReadOnlySpan<byte> oldValue)
    {
        Col(ChunkColumn.WriteSteps).WriteVarint((ulong)(Step - _previousWriteStep));
        _previousWriteStep = Step;
        Col(ChunkColumn.WriteThreads).WriteVarint(ThreadRef(thread));
        Col(ChunkColumn.WriteAddresses).WriteZigzag((long)(address - _previousWriteEnd));
        _previousWriteEnd = address + (ulong)size;
        var sizes = Col(ChunkColumn.WriteSizes);
        sizes.WriteVarint((ulong)size);
        if ((flags & MemoryWriteFlags.Truncated) != 0) sizes.WriteVarint((ulong)value.Length);
        Col(ChunkColumn.WriteFlags).WriteByte((byte)flags);
        Col(ChunkColumn.WriteValues).WriteBytes(value);
        if ((flags & MemoryWriteFlags.HasOldValue) != 0) Col(ChunkColumn.WriteOldValues).WriteBytes(oldValue);
        _writeCount++;
        Counts[(int)EventKind.MemoryWrite]++;
    }

    /// <summary>Writes a side event: the common head [kind, step delta, thread, writes-before delta,
    /// registers-before delta] followed by the kind's own fields.</summary>
    public void Side(TraceEvent e, int thread)
    {
        var writer = new MessagePackWriter(Col(ChunkColumn.Side));
        writer.WriteArrayHeader(SideEventCodec.HeadLength + SideEventCodec.FieldCount(e));
        writer.Write((byte)e.Kind);
        writer.Write(Step - _previousSideStep);
        writer.Write(thread);
        writer.Write(_writeCount - _previousSideWrites);
        writer.Write(_registerCount - _previousSideRegisters);
        SideEventCodec.WriteFields(ref writer, e);
        writer.Flush();
        _previousSideStep = Step;
        _previousSideWrites = _writeCount;
        _previousSideRegisters = _registerCount;
        if ((int)e.Kind < Counts.Length) Counts[(int)e.Kind]++;
    }

    /// <summary>Closes the pending runs and returns the body: a MessagePack array of bin columns.</summary>
    public void WriteBody(ByteBuffer body)
    {
        if (_runTicks > 0 || _runInstructions > 0) FlushClockPair();
        if (_instructionCount > 0) Col(ChunkColumn.InstructionRips).WriteVarint((ulong)_fallThrough);
        body.Clear();
        var writer = new MessagePackWriter(body);
        writer.WriteArrayHeader(ChunkColumns.Count);
        foreach (var c in _columns) writer.Write(c.WrittenSpan);
        writer.Flush();
        IsOpen = false;
    }

    public void Dispose()
    {
        foreach (var c in _columns) c.Dispose();
    }
}
