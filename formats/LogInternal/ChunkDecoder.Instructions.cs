using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.LogInternal.Prediction;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// The instruction pass: every instruction's step, thread, rip and code bytes (and code definition, which keys the
/// predicted ops). The hottest loop of a decode (1-2 M instructions per trace of a small tool): switches and
/// map look-ups stay out of line, and most instructions are found by the successor guess of <see cref="CodeDefinition"/>.
/// </summary>
internal sealed partial class ChunkDecoder
{
    private void DecodeInstructions(ReadOnlyMemory<byte>[] columns, DecodedChunk c)
    {
        long count = c.Info.Count(EventKind.Instruction);
        if (count > c.Info.LastStep - c.Info.BaseStep) throw new CorruptDataException("more instructions than steps");
        int n = (int)count;
        Grow(ref c.InstructionStep, n);
        Grow(ref c.InstructionThread, n);
        Grow(ref c.InstructionRip, n);
        Grow(ref c.InstructionCodeOffset, n);
        Grow(ref c.InstructionLength, n);
        Fit(ref _instructionDefinition, n);
        c.InstructionCount = n;
        DecodeClock(columns[(int)ChunkColumn.Clock].Span, c, n);

        // Thread switches.
        var threads = new SpanReader(columns[(int)ChunkColumn.InstructionThreads].Span, "instruction-threads");
        int current = -1, pid = 0;
        ulong expected = 0; // where the current thread's next instruction falls through to (kept in _expectedRip across switches)
        int nextSwitch = n > 0 ? threads.ReadCount(n) : int.MaxValue;
        if (n > 0 && nextSwitch != 0) throw threads.Corrupt("does not start at the first instruction");

        var rips = new SpanReader(columns[(int)ChunkColumn.InstructionRips].Span, "instruction-rips");
        var code = new SpanReader(columns[(int)ChunkColumn.InstructionCode].Span, "instruction-code");
        var codeBytes = columns[(int)ChunkColumn.InstructionCode].Span;
        Grow(ref c.Code, codeBytes.Length + OpMemo.PaddedKeyReach); // room for CodeSlots.Resolve's word reads
        var map = _code;
        map.Clear();
        // A chunk has at most one definition per instruction, and each takes at least three bytes of the code column (the
        // count of instructions before it, its length, one byte): sized once here, not per definition, and by the column
        // (a chunk of a hot loop has tens of thousands of instructions and a few hundred definitions).
        int maxDefinitions = Math.Min(n, codeBytes.Length / 3);
        // The map sized up front for the definitions the column likely holds (a definition of a typical 4-byte instruction
        // takes ~6 bytes of it), so a reader's first large chunk does not grow it through every power of two, re-inserting
        // all it holds each time (measured, two runs: cksum v2/v1 0.930 -> 0.979 and 0.943 -> 0.966; ls 0.976 -> 1.013, then level).
        map.Reserve(Math.Min(maxDefinitions, codeBytes.Length / 6));
        Fit(ref _definitionInstruction, maxDefinitions);
        Fit(ref _definitionTable, maxDefinitions);
        var table = _definitionTable;
        _definitions = _codeLength = 0;
        int definitions = 0;
        int nextCode = code.AtEnd ? int.MaxValue : code.ReadCount(n);
        long fallThrough = n > 0 ? (long)rips.ReadVarint() : 0;
        // The successor guess: the definition that followed the previous instruction's last time. Most instructions
        // repeat a path already run in the chunk, so this finds them without hashing (pid, rip); a guess of another
        // rip or pid, or of bytes a later definition replaced, goes to the map.
        int previous = -1, guess = 0;

        // Bases of the per-instruction columns, all grown to n above (i < n below): no bounds check per store.
        ref int threadOut = ref MemoryMarshal.GetArrayDataReference(c.InstructionThread);
        ref ulong ripOut = ref MemoryMarshal.GetArrayDataReference(c.InstructionRip);
        ref int offsetOut = ref MemoryMarshal.GetArrayDataReference(c.InstructionCodeOffset);
        ref byte lengthOut = ref MemoryMarshal.GetArrayDataReference(c.InstructionLength);
        ref int definitionOut = ref MemoryMarshal.GetArrayDataReference(_instructionDefinition);
        // Thread switches and failed guesses (rare) are out of line: fewer of the loop's locals spill to the stack.
        for (int i = 0; i < n; i++)
        {
            if (i == nextSwitch)
            {
                if (current >= 0) _expectedRip[current] = expected;
                current = SwitchThread(ref threads, c, i, n, out nextSwitch);
                pid = c.ThreadPid[current];
                expected = _expectedRip[current];
            }

            ulong rip = expected;
            if (fallThrough > 0)
            {
                fallThrough--;
            }
            else
            {
                rip += (ulong)rips.ReadZigzag();
                fallThrough = (long)rips.ReadVarint();
            }

            int definition;
            if (i == nextCode)
            {
                definition = Define(ref code, codeBytes, c, map, i, n, pid, rip, out nextCode);
                definitions = definition + 1;
            }
            else if ((uint)guess < (uint)definitions && table[guess].Rip == rip && table[guess].Pid == pid && table[guess].Length != 0)
            {
                definition = guess;
            }
            else
            {
                definition = Lookup(map, rips, pid, rip);
            }

            ref readonly var d = ref table[definition];
            if (definition != guess && previous >= 0) table[previous].Next = definition;
            previous = definition;
            guess = d.Next;

            Unsafe.Add(ref threadOut, i) = current;
            Unsafe.Add(ref ripOut, i) = rip;
            Unsafe.Add(ref offsetOut, i) = d.Offset;
            Unsafe.Add(ref lengthOut, i) = (byte)d.Length;
            Unsafe.Add(ref definitionOut, i) = definition;
            expected = rip + (ulong)d.Length;
        }
        if (current >= 0) _expectedRip[current] = expected;
    }

    /// <summary>Clock: (ticks, instructions) pairs give every instruction its step.</summary>
    private static void DecodeClock(ReadOnlySpan<byte> column, DecodedChunk c, int n)
    {
        var clock = new SpanReader(column, "clock");
        long step = c.Info.BaseStep, span = c.Info.LastStep - c.Info.BaseStep;
        int i = 0;
        while (!clock.AtEnd)
        {
            long ticks = (long)clock.ReadVarint();
            long run = (long)clock.ReadVarint();
            if (ticks > span || run > n - i) throw clock.Corrupt("advances past the chunk");
            step += ticks;
            Count(c.InstructionStep.AsSpan(i, (int)run), step + 1);
            step += run;
            i += (int)run;
            if (step > c.Info.LastStep) throw clock.Corrupt("advances past the chunk");
        }
        if (i != n || step != c.Info.LastStep) throw clock.Corrupt($"covers {step - c.Info.BaseStep} steps and {i} instructions, header says {span} and {n}");
    }

    /// <summary>Fills <paramref name="steps"/> with <paramref name="first"/>, first + 1, ...: four at a time (a run between two
    /// clock ticks is often thousands of instructions, and this is a store per instruction of the trace).</summary>
    private static void Count(Span<long> steps, long first)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated && steps.Length >= Vector256<long>.Count)
        {
            ref long start = ref MemoryMarshal.GetReference(steps);
            var next = Vector256.Create(first) + Vector256.Create(0L, 1, 2, 3);
            var step = Vector256.Create((long)Vector256<long>.Count);
            for (; k <= steps.Length - Vector256<long>.Count; k += Vector256<long>.Count)
            {
                next.StoreUnsafe(ref start, (nuint)k);
                next += step;
            }
        }
        for (; k < steps.Length; k++) steps[k] = first + k;
    }

    /// <summary>The thread that runs from instruction <paramref name="i"/>, and the instruction of the next switch.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SwitchThread(ref SpanReader threads, DecodedChunk c, int i, int n, out int nextSwitch)
    {
        int thread = threads.ReadCount(c.ThreadCount - 1);
        nextSwitch = threads.AtEnd ? int.MaxValue : i + threads.ReadCount(n - i);
        if (nextSwitch == i) throw threads.Corrupt("switches twice at one instruction");
        return thread;
    }

    /// <summary>Reads the code definition of instruction <paramref name="i"/> into <see cref="DecodedChunk.Code"/>, the
    /// definition table and <paramref name="map"/>; returns its number and the instruction of the next one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Define(ref SpanReader code, ReadOnlySpan<byte> codeBytes, DecodedChunk c, CodeMap map, int i, int n, int pid, ulong rip, out int nextCode)
    {
        int length = code.ReadByte();
        if (length is < 1 or > 15) throw code.Corrupt($"defines a {length}-byte instruction");
        int at = codeBytes.Length - code.Remaining;
        var bytes = code.ReadBytes(length);
        int offset = _codeLength;
        // One 16-byte move where the column has 16 bytes left (c.Code has 16 spare bytes past the code: the bytes
        // after this instruction's are overwritten by the next definition, or are padding).
        if (at <= codeBytes.Length - 16) Vector128.Create(codeBytes.Slice(at, 16)).CopyTo(c.Code.AsSpan(offset));
        else bytes.CopyTo(c.Code.AsSpan(offset));
        _codeLength = offset + length;
        int definition = _definitions++;
        _definitionInstruction[definition] = i;
        _definitionTable[definition] = new CodeDefinition(rip, pid, offset, length, definition + 1);
        int replaced = map.Set(pid, rip, offset, length, definition);
        if (replaced >= 0) _definitionTable[replaced].Length = 0; // (pid, rip) now runs other bytes: never guess the old ones
        nextCode = code.AtEnd ? int.MaxValue : i + code.ReadCount(n - i);
        if (nextCode == i) throw code.Corrupt("defines one instruction twice");
        return definition;
    }

    /// <summary>The definition that holds (pid, rip)'s bytes, when the successor guess was wrong.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Lookup(CodeMap map, in SpanReader rips, int pid, ulong rip) =>
        map.TryGet(pid, rip, out _, out _, out int definition) ? definition : throw Undefined(rips, rip);
}
