using System.Runtime.CompilerServices;
using System.Numerics;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.LogInternal.Prediction;
using Ether.Replay.Formats.Model;
using MessagePack;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// Decodes a chunk frame payload into a <see cref="DecodedChunk"/>. Every count, index and step is
/// checked against what the chunk header promises, so a damaged chunk throws
/// <see cref="CorruptDataException"/> instead of reading out of bounds or looping.
/// </summary>
internal sealed partial class ChunkDecoder : IDisposable
{
    private readonly BodyDecompressor _decompressor = new();
    private byte[] _body = [];
    /// <summary>This chunk's (pid, rip) → code definition.</summary>
    private readonly CodeMap _code = new();
    /// <summary>The reader's ops, by slot; each code definition of the chunk has one (<see cref="_definitionSlot"/>).</summary>
    private readonly CodeSlots _slots = new();
    private int[] _definitionSlot = [];

    /// <summary>How many distinct instructions the reader keeps ops for before it starts over (tests make it small).</summary>
    internal int MaxCodeSlots { get => _slots.MaxSlots; init => _slots.MaxSlots = value; }
    internal int CodeSlotCount => _slots.Count;

    /// <summary>Sizes the reader's op slots for a trace of <paramref name="instructions"/> instructions (before its first chunk).</summary>
    public void SizeFor(long instructions) => _slots.SizeFor(instructions);
    /// <summary>Per instruction of the chunk: the code definition that gave its bytes (keys the predicted ops).</summary>
    private int[] _instructionDefinition = [];
    /// <summary>Per code definition of the chunk: the instruction that defined it; and how many the chunk has.</summary>
    private int[] _definitionInstruction = [];
    /// <summary>Per code definition of the chunk: where its bytes are, and its successor guess (<see cref="CodeDefinition"/>).</summary>
    private CodeDefinition[] _definitionTable = [];
    private int _definitions;
    /// <summary>How many code bytes the chunk's definitions stored in <see cref="DecodedChunk.Code"/>.</summary>
    private int _codeLength;
    private ulong[] _expectedRip = new ulong[16];
    private RegisterFile[] _registers = new RegisterFile[16];
    private bool[] _hasRegisters = new bool[16];

    /// <summary>Per instruction of the last chunk decoded (its first <paramref name="count"/>): the code definition that gave its bytes.</summary>
    internal ReadOnlySpan<int> InstructionDefinitions(int count) => _instructionDefinition.AsSpan(0, count);

    /// <summary>The file's format version: version 1 stored register changes without prediction.</summary>
    public int FormatVersion { get; set; } = FrameFormat.FormatVersion;

    public void Decode(ReadOnlyMemory<byte> payload, long offset, int frameLength, DecodedChunk c, bool registerChanges = true)
    {
        var parsed = ChunkFrameCodec.Read(payload, offset, frameLength);
        c.Info = parsed.Info;
        var body = Decompress(parsed);
        var columns = SplitColumns(body);
        DecodeThreads(columns[(int)ChunkColumn.Threads].Span, c);
        DecodeSide(columns[(int)ChunkColumn.Side], c);
        DecodeInstructions(columns, c);
        c.HasRegisterChanges = registerChanges;
        if (registerChanges) DecodeRegisters(columns, c);
        else c.RegisterChangeCount = c.PredictedRegisterChanges = c.ExactlyPredictedRegisterChanges = 0;
        DecodeWrites(columns, c);
    }

    public ReadOnlyMemory<byte> Decompress(ChunkFrameCodec.Parsed p)
    {
        if (p.Codec == ChunkColumns.CodecNone)
        {
            if (p.StoredBody.Length != p.BodyLength) throw new CorruptDataException("stored body length differs from the header");
            return p.StoredBody;
        }
        if (p.Codec != ChunkColumns.CodecZstd) throw new CorruptDataException($"unknown codec {p.Codec}");
        if (_body.Length < p.BodyLength) _body = new byte[Math.Max(p.BodyLength, _body.Length * 2)];
        int n;
        try
        {
            n = _decompressor.Unwrap(p.StoredBody.Span, _body.AsSpan(0, p.BodyLength));
        }
        catch (Exception e) when (e is not CorruptDataException)
        {
            throw new CorruptDataException($"body does not decompress ({e.Message})");
        }
        if (n != p.BodyLength) throw new CorruptDataException($"body decompressed to {n} bytes, header says {p.BodyLength}");
        return _body.AsMemory(0, n);
    }

    public static ReadOnlyMemory<byte>[] SplitColumns(ReadOnlyMemory<byte> body)
    {
        var r = new MessagePackReader(body);
        int n = r.ReadArrayHeader();
        if (n < ChunkColumns.Count) throw new CorruptDataException($"body has {n} columns, fewer than {ChunkColumns.Count}");
        var columns = new ReadOnlyMemory<byte>[ChunkColumns.Count];
        for (int i = 0; i < ChunkColumns.Count; i++)
        {
            var seq = r.ReadBytes() ?? throw new CorruptDataException($"column {ChunkColumns.Names[i]} is nil");
            columns[i] = body.Slice((int)(r.Consumed - seq.Length), (int)seq.Length);
        }
        return columns; // columns past the ones this version knows are ignored
    }

    private void DecodeThreads(ReadOnlySpan<byte> column, DecodedChunk c)
    {
        var r = new SpanReader(column, "threads");
        int n = 0;
        while (!r.AtEnd)
        {
            Grow(ref c.ThreadPid, n + 1);
            Grow(ref c.ThreadTid, n + 1);
            c.ThreadPid[n] = checked((int)r.ReadZigzag());
            c.ThreadTid[n] = checked((int)r.ReadZigzag());
            n++;
        }
        c.ThreadCount = n;
        if (_expectedRip.Length < n) _expectedRip = new ulong[n * 2];
        if (_registers.Length < n)
        {
            _registers = new RegisterFile[n * 2];
            _hasRegisters = new bool[n * 2];
        }
        Array.Clear(_expectedRip, 0, n);
        Array.Clear(_hasRegisters, 0, n);
    }

    private void DecodeSide(ReadOnlyMemory<byte> column, DecodedChunk c)
    {
        c.SideEvents.Clear();
        c.SideWritesBefore.Clear();
        c.SideRegistersBefore.Clear();
        c.UnknownEvents = 0;
        var r = new MessagePackReader(column);
        long step = c.Info.BaseStep;
        int writes = 0, registers = 0;
        long maxWrites = c.Info.Count(EventKind.MemoryWrite), maxRegisters = c.Info.Count(EventKind.RegisterChange);
        while (!r.End)
        {
            int fields = r.ReadArrayHeader();
            if (fields < SideEventCodec.HeadLength) throw new CorruptDataException("side event shorter than its head");
            byte kind = r.ReadByte();
            step += r.ReadInt64();
            int thread = r.ReadInt32();
            writes += r.ReadInt32();
            registers += r.ReadInt32();
            if (step < c.Info.BaseStep || step > c.Info.LastStep) throw new CorruptDataException($"side event step {step} outside the chunk");
            if ((uint)thread >= (uint)c.ThreadCount) throw new CorruptDataException($"side event thread {thread} outside the thread table");
            if (writes < 0 || writes > maxWrites || registers < 0 || registers > maxRegisters)
                throw new CorruptDataException("side event position outside the chunk");
            var e = SideEventCodec.ReadFields(ref r, kind, fields - SideEventCodec.HeadLength);
            if (e == null)
            {
                c.UnknownEvents++;
                continue;
            }
            e.Step = step;
            e.Pid = c.ThreadPid[thread];
            e.Tid = c.ThreadTid[thread];
            c.SideEvents.Add(e);
            c.SideWritesBefore.Add(writes);
            c.SideRegistersBefore.Add(registers);
        }
    }

    private void DecodeRegisters(ReadOnlyMemory<byte>[] columns, DecodedChunk c)
    {
        long count = c.Info.Count(EventKind.RegisterChange);
        var steps = new SpanReader(columns[(int)ChunkColumn.RegisterSteps].Span, "register-steps");
        var threadRefs = new SpanReader(columns[(int)ChunkColumn.RegisterThreads].Span, "register-threads");
        var masks = new SpanReader(columns[(int)ChunkColumn.RegisterMasks].Span, "register-masks");
        var values = new SpanReader(columns[(int)ChunkColumn.RegisterValues].Span, "register-values");
        if (count > steps.Remaining) throw steps.Corrupt("holds fewer entries than the header counts");
        int n = (int)count;
        Grow(ref c.RegisterStep, n);
        Grow(ref c.RegisterThread, n);
        Grow(ref c.RegisterMask, n);
        Grow(ref c.RegisterValueOffset, n);
        if (c.RegisterValues.Length < values.Remaining) c.RegisterValues = new ulong[Math.Max(values.Remaining, c.RegisterValues.Length * 2)];
        c.RegisterChangeCount = n;

        long step = c.Info.BaseStep, predictedStep = -1;
        int side = 0, written = 0;
        var resolver = new ThreadRefs(c);
        bool predict = FormatVersion >= FrameFormat.PredictionVersion;
        int predicted = 0, exact = 0;
        if (predict && n > 0)
        {
            Fit(ref _definitionSlot, _definitions);
            _slots.Resolve(c, _definitionTable, _definitionInstruction, _definitions, _codeLength, _definitionSlot);
        }
        // The change before which the next side event sits: side events are few, so the per-change test is one compare.
        int nextSide = c.SideEvents.Count > 0 ? c.SideRegistersBefore[0] : int.MaxValue;
        // The columns and tables as locals: the loop calls the predictor through a function pointer, after which the JIT
        // would reload every field of c and this it reads (and bounds-check every store again).
        var stepOut = c.RegisterStep.AsSpan(0, n);
        var threadOut = c.RegisterThread.AsSpan(0, n);
        var offsetOut = c.RegisterValueOffset.AsSpan(0, n);
        var maskOut = c.RegisterMask.AsSpan(0, n);
        var valuesOut = c.RegisterValues;
        var registers = _registers;
        var hasRegisters = _hasRegisters;
        var instructionDefinition = _instructionDefinition;
        var definitionSlot = _definitionSlot;
        var slots = _slots;
        long last = c.Info.LastStep;
        for (int i = 0; i < n; i++)
        {
            // Keyframes that precede this change in the log set the base its deltas apply to.
            if (i >= nextSide)
            {
                side = ApplyKeyframes(c, side, i);
                nextSide = side < c.SideEvents.Count ? c.SideRegistersBefore[side] : int.MaxValue;
            }
            step += (long)steps.ReadVarint();
            if (step > last) throw steps.Corrupt("goes past the chunk");
            int thread = resolver.Resolve(ref threadRefs, step, out bool ownStep);
            int instruction = resolver.Instruction;
            uint mask = (uint)masks.ReadVarint();
            if (!hasRegisters[thread]) throw BeforeKeyframe(masks, c.ThreadTid[thread]);
            ref var regs = ref registers[thread];
            stepOut[i] = step;
            threadOut[i] = thread;
            offsetOut[i] = written;
            if (predict && ownStep && step != predictedStep)
            {
                // The first change of the thread whose instruction this step is: stored against the prediction.
                predictedStep = step;
                ref readonly var op = ref slots.Get(definitionSlot[instructionDefinition[instruction]], PredictedOps.Bitness(regs), c, instruction);
                if (op.Kind != PredictKind.None)
                {
                    // regs becomes the prediction (slots the stored mask says it changed wrongly keep their values);
                    // the stored values are the distances from it.
                    predicted++;
                    uint stored = mask;
                    mask ^= RegisterPredictor.Predict(op, ref regs, stored);
                    CheckMask(ref masks, mask);
                    maskOut[i] = mask;
                    if (values.SkipZeros(BitOperations.PopCount(mask)))
                    {
                        // Every residual 0 (most predicted changes): the values are the prediction's. v1 decodes a
                        // long varint per value here; this is where v2's prediction pays for itself.
                        if (stored == 0) exact++;
                        for (uint m = mask; m != 0; m &= m - 1) valuesOut[written++] = regs[BitOperations.TrailingZeroCount(m)];
                        continue;
                    }
                    ulong residuals = stored;
                    for (uint m = mask; m != 0; m &= m - 1)
                    {
                        int slot = BitOperations.TrailingZeroCount(m);
                        long residual = values.ReadZigzag();
                        residuals |= (ulong)residual;
                        regs[slot] += (ulong)residual;
                        valuesOut[written++] = regs[slot];
                    }
                    if (residuals == 0) exact++;
                    continue;
                }
            }
            CheckMask(ref masks, mask);
            maskOut[i] = mask;
            for (uint m = mask; m != 0; m &= m - 1)
            {
                int slot = BitOperations.TrailingZeroCount(m);
                regs[slot] += (ulong)values.ReadZigzag();
                valuesOut[written++] = regs[slot];
            }
        }
        c.PredictedRegisterChanges = predicted;
        c.ExactlyPredictedRegisterChanges = exact;
    }

    private static void CheckMask(ref SpanReader masks, uint mask)
    {
        if (mask == 0 || (mask >> Registers.Count) != 0) throw InvalidMask(masks, mask);
    }

    private int ApplyKeyframes(DecodedChunk c, int side, int registersBefore)
    {
        while (side < c.SideEvents.Count && c.SideRegistersBefore[side] <= registersBefore)
        {
            if (c.SideEvents[side] is KeyframeEvent k)
            {
                int thread = FindThread(c, k.Pid, k.Tid);
                _registers[thread] = k.Registers;
                _hasRegisters[thread] = true;
            }
            side++;
        }
        return side;
    }

    private static int FindThread(DecodedChunk c, int pid, int tid)
    {
        for (int t = 0; t < c.ThreadCount; t++)
            if (c.ThreadPid[t] == pid && c.ThreadTid[t] == tid) return t;
        throw new CorruptDataException("keyframe thread missing from the thread table");
    }

    /// <summary>Resolves the thread references of a column of changes or writes, in step order: reference 0 = the
    /// thread whose instruction is that step (found by walking the chunk's instruction steps alongside), k = thread
    /// table entry k-1. Holds the instruction columns as spans: the per-event loops reload no field of the chunk.</summary>
    private ref struct ThreadRefs(DecodedChunk c)
    {
        private readonly ReadOnlySpan<long> _steps = c.InstructionStep.AsSpan(0, c.InstructionCount);
        private readonly ReadOnlySpan<int> _threads = c.InstructionThread.AsSpan(0, c.InstructionCount);
        private readonly ulong _threadCount = (ulong)c.ThreadCount;
        /// <summary>After a reference 0: the index of the instruction of that step.</summary>
        public int Instruction;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Resolve(ref SpanReader refs, long step, out bool ownStep)
        {
            ulong r = refs.ReadVarint();
            ownStep = r == 0;
            if (r != 0)
            {
                if (r > _threadCount) throw NoSuchThread(refs, r - 1);
                return (int)r - 1;
            }
            int i = Instruction;
            while ((uint)i < (uint)_steps.Length && _steps[i] < step) i++;
            Instruction = i;
            if ((uint)i >= (uint)_steps.Length || _steps[i] != step) throw NoInstruction(refs, step);
            return _threads[i];
        }
    }

    private static void DecodeWrites(ReadOnlyMemory<byte>[] columns, DecodedChunk c)
    {
        long count = c.Info.Count(EventKind.MemoryWrite);
        var steps = new SpanReader(columns[(int)ChunkColumn.WriteSteps].Span, "write-steps");
        var threadRefs = new SpanReader(columns[(int)ChunkColumn.WriteThreads].Span, "write-threads");
        var addresses = new SpanReader(columns[(int)ChunkColumn.WriteAddresses].Span, "write-addresses");
        var sizes = new SpanReader(columns[(int)ChunkColumn.WriteSizes].Span, "write-sizes");
        var flags = new SpanReader(columns[(int)ChunkColumn.WriteFlags].Span, "write-flags");
        var valueBytes = columns[(int)ChunkColumn.WriteValues];
        var oldBytes = columns[(int)ChunkColumn.WriteOldValues];
        if (count > flags.Remaining) throw flags.Corrupt("holds fewer entries than the header counts");
        int n = (int)count;
        Grow(ref c.WriteStep, n);
        Grow(ref c.WriteThread, n);
        Grow(ref c.WriteAddress, n);
        Grow(ref c.WriteSize, n);
        Grow(ref c.WriteFlags, n);
        Grow(ref c.WriteValueOffset, n);
        Grow(ref c.WriteValueLength, n);
        Grow(ref c.WriteOldValueOffset, n);
        Grow(ref c.WriteValues, valueBytes.Length);
        Grow(ref c.WriteOldValues, oldBytes.Length);
        valueBytes.Span.CopyTo(c.WriteValues);
        oldBytes.Span.CopyTo(c.WriteOldValues);
        c.WriteCount = n;

        // The columns as spans of this chunk's length: no field reload or bounds check per store (the loop is per write:
        // zstd's 300 K writes a pass).
        var stepOut = c.WriteStep.AsSpan(0, n);
        var threadOut = c.WriteThread.AsSpan(0, n);
        var addressOut = c.WriteAddress.AsSpan(0, n);
        var sizeOut = c.WriteSize.AsSpan(0, n);
        var flagsOut = c.WriteFlags.AsSpan(0, n);
        var valueOffsetOut = c.WriteValueOffset.AsSpan(0, n);
        var valueLengthOut = c.WriteValueLength.AsSpan(0, n);
        var oldOffsetOut = c.WriteOldValueOffset.AsSpan(0, n);
        var resolver = new ThreadRefs(c);
        long step = c.Info.BaseStep, last = c.Info.LastStep;
        ulong previousEnd = 0;
        int valueAt = 0, oldAt = 0, values = valueBytes.Length, olds = oldBytes.Length;
        for (int i = 0; i < n; i++)
        {
            step += (long)steps.ReadVarint();
            if (step > last) throw steps.Corrupt("goes past the chunk");
            int thread = resolver.Resolve(ref threadRefs, step, out _);
            ulong address = previousEnd + (ulong)addresses.ReadZigzag();
            long size = (long)sizes.ReadVarint();
            var f = (MemoryWriteFlags)flags.ReadByte();
            long stored = (f & MemoryWriteFlags.Truncated) != 0 ? (long)sizes.ReadVarint() : size;
            if (stored > size || stored > values - valueAt) throw sizes.Corrupt("claims more value bytes than stored");
            stepOut[i] = step;
            threadOut[i] = thread;
            addressOut[i] = address;
            sizeOut[i] = size;
            flagsOut[i] = f;
            valueOffsetOut[i] = valueAt;
            valueLengthOut[i] = (int)stored;
            valueAt += (int)stored;
            if ((f & MemoryWriteFlags.HasOldValue) != 0)
            {
                if (stored > olds - oldAt) throw sizes.Corrupt("claims more old-value bytes than stored");
                oldOffsetOut[i] = oldAt;
                oldAt += (int)stored;
            }
            else
            {
                oldOffsetOut[i] = -1;
            }
            previousEnd = address + (ulong)size;
        }
    }

    // The messages of the per-event checks, built out of line: formatted inside the loops, their string builders'
    // locals were zeroed on every iteration of the hot paths.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CorruptDataException Undefined(in SpanReader rips, ulong rip) => rips.Corrupt($"reaches 0x{rip:x} whose bytes were never defined");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CorruptDataException BeforeKeyframe(in SpanReader masks, int tid) => masks.Corrupt($"changes registers of thread {tid} before its keyframe");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CorruptDataException InvalidMask(in SpanReader masks, uint mask) => masks.Corrupt($"has an invalid mask 0x{mask:x}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CorruptDataException NoSuchThread(in SpanReader refs, ulong thread) => refs.Corrupt($"names thread {thread} outside the thread table");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CorruptDataException NoInstruction(in SpanReader refs, long step) => refs.Corrupt($"refers to the instruction of step {step}, which has none");

    /// <summary>Grows, without keeping contents, a scratch array of the decoder that each chunk writes before it reads
    /// (the definition tables): uninitialised, since a reader sizes them for its largest chunk and zeroing is wasted.</summary>
    private static void Fit<T>(ref T[] array, int needed)
    {
        if (array.Length < needed) array = GC.AllocateUninitializedArray<T>(Math.Max(needed, array.Length * 2));
    }

    /// <summary>Grows (keeping contents) so reused DecodedChunk arrays fit the next chunk.</summary>
    private static void Grow<T>(ref T[] array, int needed)
    {
        if (array.Length < needed) Array.Resize(ref array, Math.Max(needed, array.Length * 2));
    }

    public void Dispose() => _decompressor.Dispose();
}
