using Ether.Replay.Formats.LogInternal;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Log;

/// <summary>
/// Streams events into an .etrace file chunk by chunk (see docs/trace-format.md). Memory stays
/// bounded by one chunk. Every completed chunk reaches the file with one write, so a writer killed
/// at any moment leaves a readable prefix. Not thread-safe: one recording thread owns it.
/// </summary>
public sealed class TraceWriter : IDisposable
{
    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly TraceWriterOptions _options;
    private readonly ChunkBuilder _chunk;
    private readonly ByteBuffer _body = new(1 << 16);
    private readonly ByteBuffer _compressed = new(1 << 16);
    private readonly ByteBuffer _frame = new(1 << 16);
    private readonly ZstdSharp.Compressor? _compressor;
    private readonly List<ChunkInfo> _index = new();
    private readonly long[] _totals = new long[EventKinds.Limit];
    /// <summary>Register file of every live thread: the base of its next change, and its keyframe at each chunk start.</summary>
    private readonly Dictionary<(int Pid, int Tid), ThreadRegisters> _threads = new();
    private long _position;
    private long _step;
    private int _nextSeq;
    private bool _closed;

    private sealed class ThreadRegisters
    {
        public RegisterFile Registers;
    }

    public static TraceWriter Create(string path, TraceHeader header, TraceWriterOptions? options = null)
    {
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        try
        {
            return new TraceWriter(stream, header, options);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public TraceWriter(Stream output, TraceHeader header, TraceWriterOptions? options = null, bool leaveOpen = false)
    {
        _output = output;
        _leaveOpen = leaveOpen;
        _options = options ?? new TraceWriterOptions();
        _chunk = new ChunkBuilder(_options.PredictRegisters);
        if (_options.CompressionLevel > 0) _compressor = new ZstdSharp.Compressor(_options.CompressionLevel);
        _frame.Clear();
        _frame.WriteBytes(FrameFormat.FileMagic);
        _body.Clear();
        HeaderCodec.Write(_body, header, _options.PredictRegisters ? FrameFormat.FormatVersion : 1);
        AppendFrame(FrameFormat.HeaderFrame, _body.WrittenSpan);
        WriteOut();
    }

    /// <summary>The step clock: number of instructions and ticks so far.</summary>
    public long Step => _step;

    /// <summary>Bytes that have reached the output (complete frames only).</summary>
    public long BytesWritten => _position;

    /// <summary>Events written so far, per kind (including the open chunk).</summary>
    public long Count(EventKind kind) => _totals[(int)kind] + (_chunk.IsOpen ? _chunk.Counts[(int)kind] : 0);

    /// <summary>Advances the step clock by one instruction of (pid, tid) at rip whose bytes are <paramref name="code"/>.
    /// Pass the bytes every time; the writer stores them only when (pid, rip) is new to the chunk or they changed.</summary>
    public void Instruction(int pid, int tid, ulong rip, ReadOnlySpan<byte> code)
    {
        BeforeStep(checkClock: false);
        _chunk.Instruction(pid, tid, rip, code);
        _step++;
    }

    /// <summary>Advances the step clock without an instruction (backends that only see system calls).</summary>
    public void Tick()
    {
        BeforeStep(checkClock: true);
        _chunk.Tick();
        _step++;
    }

    /// <summary>The thread's full register file after the current step. Writes a change with only the
    /// slots that differ (nothing if none), or a keyframe for a thread the writer has not seen.
    /// rip is left out of the change when this thread executed the current step's instruction:
    /// its next instruction event carries it.</summary>
    public void Registers(int pid, int tid, in RegisterFile registers)
    {
        EnsureOpen();
        if (!_threads.TryGetValue((pid, tid), out var state))
        {
            state = new ThreadRegisters { Registers = registers };
            _threads.Add((pid, tid), state);
            _chunk.Side(new KeyframeEvent { Pid = pid, Tid = tid, Registers = registers }, _chunk.ThreadIndex(pid, tid));
            return;
        }
        int thread = _chunk.ThreadIndex(pid, tid);
        uint mask = state.Registers.DiffMask(registers);
        if (_chunk.IsStepThread(thread)) mask &= ~Model.Registers.ChangeMaskExcludes;
        if (mask != 0) _chunk.RegisterChange(thread, mask, state.Registers, registers);
        state.Registers = registers;
    }

    /// <summary>A write of <paramref name="value"/> at <paramref name="address"/> during the current step.</summary>
    public void MemoryWrite(int pid, int tid, ulong address, ReadOnlySpan<byte> value,
        MemoryWriteFlags flags = MemoryWriteFlags.None, ReadOnlySpan<byte> oldValue = default)
        => MemoryWrite(pid, tid, address, value.Length, value, flags, oldValue);

    /// <summary>A write of <paramref name="size"/> bytes of which <paramref name="value"/> holds the first ones
    /// (shorter only when the recorder could not or would not keep them all).</summary>
    public void MemoryWrite(int pid, int tid, ulong address, long size, ReadOnlySpan<byte> value,
        MemoryWriteFlags flags = MemoryWriteFlags.None, ReadOnlySpan<byte> oldValue = default)
    {
        EnsureOpen();
        if (value.Length > _options.MaxWriteBytes) value = value[.._options.MaxWriteBytes];
        flags &= ~MemoryWriteFlags.Truncated;
        if (value.Length < size) flags |= MemoryWriteFlags.Truncated;
        if (value.Length > size) throw new ArgumentException("value is longer than the write's size", nameof(value));
        if ((flags & MemoryWriteFlags.HasOldValue) != 0 && oldValue.Length != value.Length)
        {
            if (oldValue.Length < value.Length) flags &= ~MemoryWriteFlags.HasOldValue;
            else oldValue = oldValue[..value.Length];
        }
        _chunk.MemoryWrite(_chunk.ThreadIndex(pid, tid), address, size, flags, value, oldValue);
    }

    /// <summary>Any event; its Step is ignored (the current step is used). Rare kinds go here.</summary>
    public void Write(TraceEvent e)
    {
        switch (e)
        {
            case InstructionEvent i:
                Instruction(i.Pid, i.Tid, i.Rip, i.Bytes);
                return;
            case RegisterChangeEvent r:
                Registers(r.Pid, r.Tid, r.Registers);
                return;
            case MemoryWriteEvent m:
                MemoryWrite(m.Pid, m.Tid, m.Address, m.Size, m.Value, m.Flags, m.OldValue);
                return;
            case KeyframeEvent k:
                EnsureOpen();
                if (_threads.TryGetValue((k.Pid, k.Tid), out var state)) state.Registers = k.Registers;
                else _threads.Add((k.Pid, k.Tid), new ThreadRegisters { Registers = k.Registers });
                break;
        }
        EnsureOpen();
        _chunk.Side(e, _chunk.ThreadIndex(e.Pid, e.Tid));
        switch (e)
        {
            case ThreadExitEvent:
                _threads.Remove((e.Pid, e.Tid));
                break;
            case ProcessExitEvent:
                foreach (var key in _threads.Keys.Where(k => k.Pid == e.Pid).ToList()) _threads.Remove(key);
                break;
        }
    }

    /// <summary>Ends the current chunk now (it is written even if small).</summary>
    public void Flush()
    {
        if (!_chunk.IsOpen) return;
        _chunk.WriteBody(_body);
        ReadOnlySpan<byte> stored = _body.WrittenSpan;
        int codec = ChunkColumns.CodecNone;
        if (_compressor != null)
        {
            _compressed.Clear();
            var span = _compressed.GetSpan(ZstdSharp.Compressor.GetCompressBound(_body.Length));
            int n = _compressor.Wrap(_body.WrittenSpan, span);
            _compressed.Advance(n);
            stored = _compressed.WrittenSpan;
            codec = ChunkColumns.CodecZstd;
        }
        var counts = (long[])_chunk.Counts.Clone();
        var payload = new ByteBuffer(stored.Length + 256);
        try
        {
            ChunkFrameCodec.Write(payload, _chunk.Seq, _chunk.BaseStep, _chunk.Step, counts, codec, _body.Length, stored);
            long offset = _position;
            _frame.Clear();
            AppendFrame(FrameFormat.ChunkFrame, payload.WrittenSpan);
            WriteOut();
            _index.Add(new ChunkInfo(_chunk.Seq, offset, payload.Length + FrameFormat.PreambleLength, _chunk.BaseStep, _chunk.Step, counts));
        }
        finally
        {
            payload.Dispose();
        }
        for (int i = 0; i < counts.Length; i++) _totals[i] += counts[i];
    }

    /// <summary>Writes the last chunk, the footer index and the trailer. Idempotent.</summary>
    public void Close(StopReason reason, string detail = "")
    {
        if (_closed) return;
        Flush();
        _body.Clear();
        IndexCodec.Write(_body, new IndexCodec.Footer(_index, _totals, _step, reason, detail, DateTimeOffset.UtcNow));
        long indexOffset = _position;
        _frame.Clear();
        AppendFrame(FrameFormat.IndexFrame, _body.WrittenSpan);
        Span<byte> trailer = stackalloc byte[FrameFormat.TrailerLength];
        FrameFormat.WriteTrailer(trailer, indexOffset);
        _frame.WriteBytes(trailer);
        WriteOut();
        _closed = true;
        if (!_leaveOpen) _output.Dispose();
    }

    public void Dispose()
    {
        if (!_closed) Close(StopReason.Closed);
        _chunk.Dispose();
        _body.Dispose();
        _compressed.Dispose();
        _frame.Dispose();
        _compressor?.Dispose();
    }

    private void BeforeStep(bool checkClock)
    {
        if (_closed) throw new ObjectDisposedException(nameof(TraceWriter), "the trace is closed");
        if (_chunk.IsOpen && ChunkIsFull(checkClock)) Flush();
        EnsureOpen();
    }

    /// <summary>Chunks end at step boundaries only, so a step's events never straddle two chunks.</summary>
    private bool ChunkIsFull(bool checkClock)
    {
        if (_chunk.StepsInChunk >= _options.ChunkSteps) return true;
        // Instructions check size and age every 1024 steps: reading the clock per instruction would cost
        // as much as encoding it. Ticks are rare (one per system call) and check every time.
        if (!checkClock && (_chunk.StepsInChunk & 1023) != 1023) return false;
        return _chunk.EncodedBytes >= _options.ChunkBytes
            || Environment.TickCount64 - _chunk.OpenedAtTicks >= (long)_options.ChunkAge.TotalMilliseconds;
    }

    private void EnsureOpen()
    {
        if (_chunk.IsOpen) return;
        if (_closed) throw new ObjectDisposedException(nameof(TraceWriter), "the trace is closed");
        _chunk.Open(_nextSeq++, _step);
        // Every live thread's registers at the chunk start, so the chunk decodes without its predecessors.
        foreach (var ((pid, tid), state) in _threads)
            _chunk.Side(new KeyframeEvent { Pid = pid, Tid = tid, Registers = state.Registers }, _chunk.ThreadIndex(pid, tid));
    }

    private void AppendFrame(byte type, ReadOnlySpan<byte> payload)
    {
        Span<byte> preamble = stackalloc byte[FrameFormat.PreambleLength];
        FrameFormat.WritePreamble(preamble, type, payload);
        _frame.WriteBytes(preamble);
        _frame.WriteBytes(payload);
    }

    /// <summary>One write per frame batch: a kill between writes leaves whole frames plus at most one torn one.</summary>
    private void WriteOut()
    {
        _output.Write(_frame.WrittenSpan);
        _output.Flush();
        _position += _frame.Length;
        _frame.Clear();
    }
}
