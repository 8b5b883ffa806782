using Ether.Replay.Formats.LogInternal.Prediction;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// The fast decoder of common instruction forms must give, whenever it answers, exactly the op that Iced's
/// decoding gives (<see cref="PredictedOp.Decode"/>): one different field would make a reader predict other
/// registers than the writer did, and every value after it wrong. Checked over every REX prefix, ModRM byte and
/// (for a spread of ModRM bytes) every SIB byte of every opcode it handles, at rips that wrap, and over random
/// byte strings; it must also answer for the common forms (else it saves nothing).
/// </summary>
public class FastOpDecoderTests
{
    /// <summary>The opcodes FastOpDecoder handles, and some beside them it must leave to Iced.</summary>
    private static readonly int[] OneByte =
    [
        .. Enumerable.Range(0x00, 0x40).Where(b => (b & 7) < 6 && b != 0x0F),
        .. Enumerable.Range(0x50, 0x10), 0x63, .. Enumerable.Range(0x70, 0x10), 0x80, 0x81, 0x83, 0x84, 0x85,
        0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x68, 0x6A, 0x69, 0x6B, 0x98, 0x99, 0xA8, 0xA9, .. Enumerable.Range(0xB0, 0x10),
        0xC0, 0xC1, 0xC2, 0xC3, 0xC6, 0xC7, 0xC9, 0xCC, 0xD0, 0xD1, 0xD2, 0xD3, 0xE8, 0xE9, 0xEB, 0xF6, 0xF7, 0xFE, 0xFF,
    ];

    private static readonly int[] TwoByte =
        [.. Enumerable.Range(0x40, 0x10), .. Enumerable.Range(0x80, 0x10), .. Enumerable.Range(0x90, 0x10), 0xAF, 0xB6, 0xB7, 0xBE, 0xBF, 0x1F, 0x05, 0xA2,
         0x10, 0x11, 0x28, 0x29, 0x31, 0x1E, 0x12, 0x6F, 0xD6];

    /// <summary>Prefix bytes before the opcode: none, each REX, the legacy prefixes the decoder skips (segments) or
    /// must leave to Iced (operand size but for the multi-byte nop, rep, lock), and orders of them.</summary>
    private static readonly byte[][] Prefixes =
    [
        [], .. Enumerable.Range(0x40, 0x10).Select(r => new[] { (byte)r }),
        [0x66], [0xF3], [0xF2], [0xF0], [0x67], [0x26], [0x2E], [0x36], [0x3E], [0x64], [0x65],
        [0x64, 0x48], [0x65, 0x41], [0x2E, 0x4C], [0x66, 0x2E], [0x66, 0x48], [0x66, 0x66, 0x2E], [0x48, 0x64], [0x64, 0x66], [0xF3, 0x64],
        [0x64, 0x67], [0x65, 0xF2], [0x2E, 0xF0], [0x3E, 0xF3], // a prefix looked past, then one that is not
    ];

    private static readonly byte[] SkippedPrefixes = [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66];

    /// <summary>Prefixes with which every SIB byte is tried too.</summary>
    private static readonly byte[][] SibPrefixes = [[], [0x41], [0x42], [0x48], [0x4F], [0x64, 0x4B]];

    [Fact]
    public void Every_answer_is_what_Iced_gives_for_every_prefix_modrm_and_sib()
    {
        var random = new Random(14);
        long checkedCount = 0, answered = 0;
        var tail = new byte[12];
        foreach (var prefix in Prefixes)
            foreach (var opcode in OneByte.Select(b => new[] { (byte)b }).Concat(TwoByte.Select(b => new[] { (byte)0x0F, (byte)b })))
                for (int modrm = 0; modrm < 256; modrm++)
                {
                    bool sibs = (modrm >> 6) != 3 && (modrm & 7) == 4 && (modrm & 0x38) is 0 or 0x28 && SibPrefixes.Any(p => p.AsSpan().SequenceEqual(prefix));
                    for (int sib = 0; sib < (sibs ? 256 : 1); sib++)
                    {
                        random.NextBytes(tail);
                        var bytes = new List<byte>();
                        bytes.AddRange(prefix);
                        bytes.AddRange(opcode);
                        bytes.Add((byte)modrm);
                        if (sibs) bytes.Add((byte)sib);
                        bytes.AddRange(tail);
                        var code = bytes.ToArray();
                        ulong rip = random.Next(3) switch { 0 => 0x401000, 1 => ulong.MaxValue - (ulong)random.Next(64), _ => (ulong)random.NextInt64() };
                        // The instruction alone (Iced's length), cut one short, and one byte long: every answer must be Iced's.
                        int length = IcedLength(code, rip);
                        foreach (int n in new[] { length, length - 1, length + 1 })
                        {
                            if (n < 1 || n > 15) continue;
                            checkedCount++;
                            if (Check(code.AsSpan(0, n), rip)) answered++;
                        }
                    }
                }
        Assert.True(checkedCount > 500_000, $"{checkedCount} checked");
        Assert.True(answered > 100_000, $"only {answered} of {checkedCount} answered without Iced");
    }

    [Fact]
    public void Every_answer_is_what_Iced_gives_for_random_bytes()
    {
        var random = new Random(15);
        for (int i = 0; i < 300_000; i++)
        {
            var code = new byte[1 + random.Next(15)];
            random.NextBytes(code);
            switch (random.Next(4))
            {
                case 0 or 1: code[0] = (byte)(0x40 + random.Next(16)); break; // often a REX, so the opcode after it is tried
                case 2: code[0] = SkippedPrefixes[random.Next(SkippedPrefixes.Length)]; break; // or a prefix the decoder looks past
            }
            Check(code, (ulong)random.NextInt64());
        }
    }

    /// <summary>Two-byte opcodes that decode to a predicted instruction with some prefix or operand (cmovcc, setcc, push
    /// and pop fs and gs, imul, movzx, movsx, bswap), and mov to and from control and debug registers: every other 0F xx
    /// must be answered as unpredicted.</summary>
    private static readonly int[] MayBePredictedTwoByte =
        [.. Enumerable.Range(0x20, 8), .. Enumerable.Range(0x40, 16), .. Enumerable.Range(0x90, 16), 0xA0, 0xA1, 0xA8, 0xA9, 0xAF, 0xB6, 0xB7, 0xBE, 0xBF,
         .. Enumerable.Range(0xC8, 8)];

    /// <summary>The classes answered as unpredicted whatever their prefixes, operands and length: VEX, EVEX, the three-byte
    /// maps, the other two-byte opcodes, lock, xchg with memory. Each of Iced's decodings of them must be unpredicted too
    /// (one predicted form among them would have the reader predict nothing where the writer predicted), and each must be
    /// answered (else it goes to Iced, which costs a reader 1-1.5 µs a cold decode).</summary>
    [Fact]
    public void Unpredicted_classes_are_answered_and_unpredicted_for_Iced_with_any_prefix_operand_and_length()
    {
        var random = new Random(16);
        byte[][] prefixes =
        [
            [], [0x48], [0x41], [0x4F], [0x66], [0xF3], [0xF2], [0xF0], [0x67], [0x2E], [0x64], [0x66, 0x48], [0xF3, 0x48], [0xF2, 0x4C],
            [0xF0, 0x48], [0x66, 0xF2], [0xF3, 0x66], [0x64, 0xF0], [0x67, 0xF3, 0x41], [0x66, 0x2E], [0xF0, 0x66, 0x41],
        ];
        var heads = new List<(byte[] Head, bool Answered)>();
        for (int b = 0; b < 256; b++)
        {
            heads.Add(([0x0F, (byte)b], !MayBePredictedTwoByte.Contains(b)));
            heads.Add(([0x0F, 0x38, (byte)b], true));
            heads.Add(([0x0F, 0x3A, (byte)b], true));
            heads.Add(([0xC5, (byte)b], true));
            heads.Add(([0xC4, (byte)b], true));
            heads.Add(([0x62, (byte)b], true));
        }
        long checkedCount = 0;
        var tail = new byte[15];
        foreach (var prefix in prefixes)
            foreach (var (head, mustAnswer) in heads)
                for (int k = 0; k < 8; k++)
                {
                    random.NextBytes(tail);
                    if (head.Length == 2 && head[0] == 0x0F) tail[0] = (byte)(k * 32 + random.Next(32)); // the ModRM: every mod and reg
                    var code = prefix.Concat(head).Concat(tail).Take(15).ToArray();
                    ulong rip = (ulong)random.NextInt64();
                    int length = IcedLength(code, rip);
                    foreach (int n in new[] { length, length + 1, prefix.Length + head.Length + random.Next(15 - prefix.Length - head.Length + 1) })
                    {
                        if (n < prefix.Length + head.Length || n > 15) continue;
                        checkedCount++;
                        bool lockPrefix = prefix.Contains((byte)0xF0);
                        bool answered = Check(code.AsSpan(0, n), rip);
                        if ((mustAnswer || lockPrefix) && !answered) Assert.Fail($"{Convert.ToHexString(code, 0, n)} was left to Iced");
                        if (mustAnswer || lockPrefix) Assert.Equal(PredictKind.None, PredictedOp.Decode(code.AsSpan(0, n), rip, 64).Kind);
                    }
                }
        // lock before any one-byte opcode and xchg with memory: unpredicted for Iced as well.
        for (int opcode = 0; opcode < 256; opcode++)
            for (int modrm = 0; modrm < 256; modrm += 3)
            {
                random.NextBytes(tail);
                byte[] locked = [0xF0, .. prefixes[random.Next(4)], (byte)opcode, (byte)modrm, .. tail[..6]];
                Assert.True(Check(locked, 0x401000), $"{Convert.ToHexString(locked)} was left to Iced");
                checkedCount++;
            }
        foreach (byte xchg in new byte[] { 0x86, 0x87 })
            for (int modrm = 0; modrm < 0xC0; modrm++)
            {
                random.NextBytes(tail);
                byte[] code = [.. prefixes[random.Next(4)].Where(b => b != 0xF0 && b != 0x66), xchg, (byte)modrm, .. tail[..6]];
                Assert.True(Check(code, 0x401000), $"{Convert.ToHexString(code)} was left to Iced");
            }
        Assert.True(checkedCount > 500_000, $"{checkedCount} checked");
    }

    [Theory]
    [InlineData("4889c8")]           // mov rax, rcx
    [InlineData("8b45fc")]           // mov eax, [rbp-4]: a memory operand, not predicted
    [InlineData("4883c408")]         // add rsp, 8
    [InlineData("4881ec00010000")]   // sub rsp, 0x100
    [InlineData("488d0500100000")]   // lea rax, [rip+0x1000]
    [InlineData("488d04c8")]         // lea rax, [rax+rcx*8]
    [InlineData("4c8d6c2408")]       // lea r13, [rsp+8]
    [InlineData("31c0")]             // xor eax, eax
    [InlineData("0fb6c1")]           // movzx eax, cl
    [InlineData("400fb6c6")]         // movzx eax, sil
    [InlineData("0fb6c6")]           // movzx eax, dh
    [InlineData("480f44c1")]         // cmove rax, rcx
    [InlineData("0f94c0")]           // sete al
    [InlineData("48c1e003")]         // shl rax, 3
    [InlineData("48d3e8")]           // shr rax, cl
    [InlineData("d1f8")]             // sar eax, 1
    [InlineData("4155")]             // push r13
    [InlineData("c3")]               // ret
    [InlineData("e800000000")]       // call
    [InlineData("ffd0")]             // call rax
    [InlineData("ff2500100000")]     // jmp [rip+0x1000]
    [InlineData("48ffc1")]           // inc rcx
    [InlineData("48b88877665544332211")] // mov rax, imm64
    [InlineData("b8ffffffff")]       // mov eax, 0xffffffff
    [InlineData("48c7c0ffffffff")]   // mov rax, -1
    [InlineData("4863c2")]           // movsxd rax, edx
    [InlineData("0f8500010000")]     // jne rel32
    [InlineData("a801")]             // test al, 1
    [InlineData("64488b042528000000")] // mov rax, fs:[0x28]: a memory operand, not predicted
    [InlineData("644889c8")]         // mov rax, rcx with an fs prefix (ignored)
    [InlineData("660f1f440000")]     // nop word [rax+rax]
    [InlineData("662e0f1f840000000000")] // cs nop word [rax+rax]
    [InlineData("0f1f00")]           // nop dword [rax]
    [InlineData("6a00")]             // push 0
    [InlineData("c9")]               // leave
    [InlineData("0f05")]             // syscall
    [InlineData("f7c100010000")]     // test ecx, 0x100
    [InlineData("48f7e1")]           // mul rcx
    [InlineData("f7d8")]             // neg eax
    [InlineData("480fafc1")]         // imul rax, rcx
    [InlineData("6bc00c")]           // imul eax, eax, 12
    [InlineData("0f114308")]         // movups [rbx+8], xmm0
    [InlineData("c5fb93c0")]         // kmovd eax, k0
    [InlineData("660fd7c1")]         // pmovmskb eax, xmm1
    [InlineData("66440fd7c1")]       // pmovmskb r8d, xmm1
    [InlineData("f30fbcc0")]         // tzcnt eax, eax
    [InlineData("480fbcc0")]         // bsf rax, rax
    [InlineData("f00fb111")]         // lock cmpxchg [rcx], edx
    [InlineData("c4e2fbf7c0")]       // shrx rax, rax, rax
    [InlineData("62e1fe486f07")]     // vmovdqu64 zmm16, [rdi]
    [InlineData("f30f1efa")]         // endbr64
    [InlineData("8707")]             // xchg [rdi], eax
    public void The_common_forms_are_answered_and_equal_Iceds(string hex)
    {
        var code = Convert.FromHexString(hex);
        Assert.True(FastOpDecoder.TryDecode64(code, 0x401000, out _), $"{hex} was left to Iced");
        Assert.True(Check(code, 0x401000));
    }

    /// <summary>True when the fast decoder answered (and then its answer equals Iced's); fails the test otherwise.</summary>
    private static bool Check(ReadOnlySpan<byte> code, ulong rip)
    {
        if (!FastOpDecoder.TryDecode64(code, rip, out var fast)) return false;
        var iced = PredictedOp.Decode(code, rip, 64);
        if (!fast.Equals(iced))
            Assert.Fail($"{Convert.ToHexString(code)} at 0x{rip:x}: fast {Describe(fast)}, Iced {Describe(iced)}");
        return true;
    }

    private static int IcedLength(byte[] code, ulong rip)
    {
        var decoder = Iced.Intel.Decoder.Create(64, new Iced.Intel.ByteArrayCodeReader(code), rip);
        decoder.Decode(out var insn);
        return insn.Length;
    }

    private static string Describe(in PredictedOp op) =>
        $"{op.Kind} size {op.Size} dst {op.Dst}{(op.DstHigh ? "h" : "")} src {op.Src}{(op.SrcHigh ? "h" : "")}/{op.SrcSize} imm 0x{op.Imm:x} " +
        $"base {op.Base} index {op.Index} scale {op.Scale} as {op.AddressSize} cond {op.Condition} touched 0x{op.Touched:x} " +
        $"slots {op.Slot0},{op.Slot1},{op.Slot2} form {op.Form}";
}
