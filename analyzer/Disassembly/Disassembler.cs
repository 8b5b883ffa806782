using System.Text;
using Decoder = Iced.Intel.Decoder;
using Iced.Intel;

namespace Ether.Replay.Analyzer.Disassembly;

/// <summary>
/// Intel-syntax disassembly with Iced. Formatting costs far more than decoding, and traces execute
/// the same few thousand addresses over and over, so formatted text is cached per (address, bytes).
/// Not thread-safe: give each thread (each DuckDB function callback) its own instance.
/// </summary>
public sealed class Disassembler
{
    private readonly int _bitness;
    private readonly IntelFormatter _formatter;
    private readonly StringOutput _output = new();
    private readonly Dictionary<(ulong Rip, UInt128 Bytes), string> _cache = new();
    private const int CacheLimit = 1 << 16;

    public Disassembler(int bitness = 64)
    {
        _bitness = bitness;
        _formatter = new IntelFormatter();
        _formatter.Options.FirstOperandCharIndex = 0;
        _formatter.Options.SpaceAfterOperandSeparator = true;
        _formatter.Options.HexPrefix = "0x";
        _formatter.Options.HexSuffix = "";
        _formatter.Options.UppercaseHex = false;
        _formatter.Options.BranchLeadingZeros = false;
        _formatter.Options.LeadingZeros = false;
    }

    /// <summary>Bitness for an architecture name from a trace header ("x86_64", "x86", "i386").</summary>
    public static int BitnessOf(string architecture) =>
        architecture is "x86" or "i386" or "i686" or "x86-32" ? 32 : 64;

    /// <summary>Every instruction in <paramref name="code"/> (at <paramref name="rip"/>), joined by "; ".
    /// Bytes that do not decode are shown as "(bad)".</summary>
    public string Format(ReadOnlySpan<byte> code, ulong rip)
    {
        if (code.Length <= 15)
        {
            var key = (rip, Pack(code));
            if (_cache.TryGetValue(key, out var cached)) return cached;
            var text = FormatAll(code, rip);
            if (_cache.Count >= CacheLimit) _cache.Clear();
            _cache[key] = text;
            return text;
        }
        return FormatAll(code, rip);
    }

    /// <summary>Each instruction of <paramref name="code"/> with its address and text.</summary>
    public IEnumerable<(ulong Rip, int Length, string Text)> Lines(byte[] code, ulong rip)
    {
        var decoder = Decoder.Create(_bitness, new ByteArrayCodeReader(code), rip);
        ulong end = rip + (ulong)code.Length;
        while (decoder.IP < end)
        {
            decoder.Decode(out var instruction);
            if (instruction.IsInvalid)
            {
                yield return (instruction.IP, Math.Max(1, instruction.Length), "(bad)");
                if (instruction.Length == 0) yield break;
                continue;
            }
            _output.Reset();
            _formatter.Format(instruction, _output);
            yield return (instruction.IP, instruction.Length, _output.ToStringAndReset());
        }
    }

    /// <summary>True when the instruction can transfer control elsewhere (jump, call, return, system call,
    /// interrupt): the end of a basic block. Undecodable bytes count as an end too. The answer depends
    /// only on the bytes, and a trace uses few distinct encodings, so it is cached per encoding.</summary>
    public bool EndsBlock(ReadOnlySpan<byte> code)
    {
        if (code.Length == 0 || code.Length > 15) return true;
        var key = Pack(code);
        if (_endsBlock.TryGetValue(key, out bool ends)) return ends;
        code.CopyTo(_flowBytes);
        _flowReader.Reset(code.Length);
        _flowDecoder.IP = 0;
        _flowDecoder.Decode(out var instruction);
        ends = instruction.IsInvalid || instruction.FlowControl != FlowControl.Next;
        if (_endsBlock.Count >= CacheLimit) _endsBlock.Clear();
        _endsBlock[key] = ends;
        return ends;
    }

    private readonly Dictionary<UInt128, bool> _endsBlock = new();
    private readonly byte[] _flowBytes = new byte[16];
    private ResettableCodeReader? _flowReaderField;
    private Decoder? _flowDecoderField;
    private ResettableCodeReader _flowReader => _flowReaderField ??= new ResettableCodeReader(_flowBytes);
    private Decoder _flowDecoder => _flowDecoderField ??= Decoder.Create(_bitness, _flowReader);

    /// <summary>A code reader over a reused buffer, so deciding block ends allocates nothing.</summary>
    private sealed class ResettableCodeReader(byte[] buffer) : CodeReader
    {
        private int _position, _length;
        public void Reset(int length) { _position = 0; _length = length; }
        public override int ReadByte() => _position < _length ? buffer[_position++] : -1;
    }

    private string FormatAll(ReadOnlySpan<byte> code, ulong rip)
    {
        var bytes = code.ToArray();
        var sb = new StringBuilder();
        foreach (var (_, _, text) in Lines(bytes, rip))
        {
            if (sb.Length > 0) sb.Append("; ");
            sb.Append(text);
        }
        return sb.ToString();
    }

    /// <summary>Up to 15 bytes plus the length, as one 128-bit key.</summary>
    private static UInt128 Pack(ReadOnlySpan<byte> code)
    {
        Span<byte> b = stackalloc byte[16];
        b.Clear();
        code.CopyTo(b);
        b[15] = (byte)code.Length;
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(b);
    }
}
