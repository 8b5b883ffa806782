namespace Ether.Replay.Formats.Tests.Log;

/// <summary>One instruction for the prediction tests.</summary>
/// <param name="Predicted">The predictor computes this form (false: a near miss it must leave alone).</param>
/// <param name="Memory">Run on the CPU with rdi, rsi, rbp pointing into a buffer and a small rcx (string ops, leave).</param>
/// <param name="Prologue">Assembly run on the CPU before the registers are loaded ("{after}" is the label after the instruction).</param>
/// <param name="NotPredictedSlots">Slots the instruction loads from memory: not predicted, not compared.</param>
/// <param name="UndefinedFlags">Flags the Intel manual leaves undefined here: compared only on the CPU vendor the format's choices follow (AMD).</param>
internal sealed record CodeCase(string Text, byte[] Bytes, bool Predicted = true, bool Memory = false, string? Prologue = null,
    Register[]? NotPredictedSlots = null, ulong UndefinedFlags = 0)
{
    public override string ToString() => Text;
}

/// <summary>
/// Real x86 encodings of every instruction form the register predictor computes (docs/trace-format.md,
/// "Register prediction"), each operand size and operand kind, plus near misses it must leave alone.
/// </summary>
internal static class PredictableCode
{
    private const ulong CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
    private const ulong Logic = AF, Shift = AF | OF, Rotate = OF, Multiply = SF | ZF | AF | PF;

    /// <summary>ret returns to the instruction's end (and popfq pops harmless flags: no trap or alignment-check flag).</summary>
    private const string ReturnHere = "lea r11, [rip+{after}]\npush r11";

    public static readonly CodeCase[] Cases =
    [
        new("mov eax, ebx", [0x89, 0xd8]),
        new("mov rax, rbx", [0x48, 0x89, 0xd8]),
        new("mov ah, bl", [0x88, 0xdc]),
        new("mov ax, bx", [0x66, 0x89, 0xd8]),
        new("mov r9d, r10d", [0x45, 0x89, 0xd1]),
        new("mov eax, 0x12345678", [0xb8, 0x78, 0x56, 0x34, 0x12]),
        new("mov rax, -1", [0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff]),
        new("mov rax, imm64", [0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88]),
        new("mov ah, 0x7f", [0xb4, 0x7f]),
        new("mov sil, 0x80", [0x40, 0xb6, 0x80]),
        new("movzx eax, bh", [0x0f, 0xb6, 0xc7]),
        new("movzx r8d, byte r9b", [0x45, 0x0f, 0xb6, 0xc1]),
        new("movsx rax, bx", [0x48, 0x0f, 0xbf, 0xc3]),
        new("movsxd rax, ebx", [0x48, 0x63, 0xc3]),
        new("xchg eax, ebx", [0x87, 0xd8]),
        new("xchg rax, rbx", [0x48, 0x87, 0xd8]),
        new("xchg eax, eax (zero-extends)", [0x87, 0xc0]),
        new("bswap eax", [0x0f, 0xc8]),
        new("bswap rax", [0x48, 0x0f, 0xc8]),
        new("lea rax, [rax+rbx*4+0x10]", [0x48, 0x8d, 0x44, 0x98, 0x10]),
        new("lea eax, [rax+rbx]", [0x8d, 0x04, 0x18]),
        new("lea rax, [rip+0x10]", [0x48, 0x8d, 0x05, 0x10, 0, 0, 0]),
        new("lea eax, [eax+ebx]", [0x67, 0x8d, 0x04, 0x18]),
        new("lea ax, [rbx-1]", [0x66, 0x8d, 0x43, 0xff]),
        new("add eax, ebx", [0x01, 0xd8]),
        new("add rax, rbx", [0x48, 0x01, 0xd8]),
        new("add ah, bh", [0x00, 0xfc]),
        new("add ax, bx", [0x66, 0x01, 0xd8]),
        new("add eax, -1", [0x83, 0xc0, 0xff]),
        new("add rax, -0x80000000", [0x48, 0x05, 0x00, 0x00, 0x00, 0x80]),
        new("adc eax, ebx", [0x11, 0xd8]),
        new("adc al, 0xff", [0x14, 0xff]),
        new("sbb eax, ebx", [0x19, 0xd8]),
        new("sbb rax, rax", [0x48, 0x19, 0xc0]),
        new("sub rax, rbx", [0x48, 0x29, 0xd8]),
        new("sub al, 1", [0x2c, 0x01]),
        new("cmp eax, ebx", [0x39, 0xd8]),
        new("cmp rax, 0x10", [0x48, 0x83, 0xf8, 0x10]),
        new("cmp bh, al", [0x38, 0xc7]),
        new("and eax, ebx", [0x21, 0xd8], UndefinedFlags: Logic),
        new("or eax, ebx", [0x09, 0xd8], UndefinedFlags: Logic),
        new("or rax, -1", [0x48, 0x83, 0xc8, 0xff], UndefinedFlags: Logic),
        new("xor eax, eax", [0x31, 0xc0], UndefinedFlags: Logic),
        new("xor rax, rbx", [0x48, 0x31, 0xd8], UndefinedFlags: Logic),
        new("xor dh, ch", [0x30, 0xee], UndefinedFlags: Logic),
        new("test eax, eax", [0x85, 0xc0], UndefinedFlags: Logic),
        new("test al, 1", [0xa8, 0x01], UndefinedFlags: Logic),
        new("inc eax", [0xff, 0xc0]),
        new("dec rax", [0x48, 0xff, 0xc8]),
        new("inc ah", [0xfe, 0xc4]),
        new("dec r12w", [0x66, 0x41, 0xff, 0xcc]),
        new("not eax", [0xf7, 0xd0]),
        new("not bh", [0xf6, 0xd7]),
        new("neg rax", [0x48, 0xf7, 0xd8]),
        new("neg al", [0xf6, 0xd8]),
        new("shl eax, 5", [0xc1, 0xe0, 0x05], UndefinedFlags: Shift),
        new("shr eax, 1", [0xd1, 0xe8], UndefinedFlags: AF),
        new("shr rax, 63", [0x48, 0xc1, 0xe8, 0x3f], UndefinedFlags: Shift),
        new("sar rax, cl", [0x48, 0xd3, 0xf8], UndefinedFlags: Shift),
        new("sar eax, 31", [0xc1, 0xf8, 0x1f], UndefinedFlags: Shift),
        new("shl al, 9", [0xc0, 0xe0, 0x09], UndefinedFlags: Shift | CF),
        new("shr ax, cl", [0x66, 0xd3, 0xe8], UndefinedFlags: Shift | CF),
        new("shl rax, 1", [0x48, 0xd1, 0xe0], UndefinedFlags: AF),
        new("shl eax, 0", [0xc1, 0xe0, 0x00]),
        new("rol eax, 7", [0xc1, 0xc0, 0x07], UndefinedFlags: Rotate),
        new("ror rax, 13", [0x48, 0xc1, 0xc8, 0x0d], UndefinedFlags: Rotate),
        new("rol ax, 16", [0x66, 0xc1, 0xc0, 0x10], UndefinedFlags: Rotate),
        new("ror al, 1", [0xd0, 0xc8]),
        new("rol eax, cl", [0xd3, 0xc0], UndefinedFlags: Rotate),
        new("ror bh, 3", [0xc0, 0xcf, 0x03], UndefinedFlags: Rotate),
        new("imul eax, ebx", [0x0f, 0xaf, 0xc3], UndefinedFlags: Multiply),
        new("imul rax, rbx, 7", [0x48, 0x6b, 0xc3, 0x07], UndefinedFlags: Multiply),
        new("imul rax, rax, 0x10000", [0x48, 0x69, 0xc0, 0x00, 0x00, 0x01, 0x00], UndefinedFlags: Multiply),
        new("imul ax, bx, -3", [0x66, 0x6b, 0xc3, 0xfd], UndefinedFlags: Multiply),
        new("mul rbx", [0x48, 0xf7, 0xe3], UndefinedFlags: Multiply),
        new("mul ecx", [0xf7, 0xe1], UndefinedFlags: Multiply),
        new("imul ebx", [0xf7, 0xeb], UndefinedFlags: Multiply),
        new("imul rdx", [0x48, 0xf7, 0xea], UndefinedFlags: Multiply),
        new("cmove eax, ebx", [0x0f, 0x44, 0xc3]),
        new("cmovl rax, rbx", [0x48, 0x0f, 0x4c, 0xc3]),
        new("cmovbe cx, dx", [0x66, 0x0f, 0x46, 0xca]),
        new("cmovp esi, edi", [0x0f, 0x4a, 0xf7]),
        new("seta al", [0x0f, 0x97, 0xc0]),
        new("setg ah", [0x0f, 0x9f, 0xc4]),
        new("setno r11b", [0x41, 0x0f, 0x91, 0xc3]),
        new("push rax", [0x50]),
        new("pop rbx", [0x5b], NotPredictedSlots: [Register.Rbx]),
        new("call next", [0xe8, 0, 0, 0, 0]),
        new("ret", [0xc3], Prologue: ReturnHere),
        new("ret 0x10", [0xc2, 0x10, 0x00], Prologue: ReturnHere),
        new("pushfq", [0x9c]),
        new("popfq", [0x9d], Prologue: "push 0x8d7", NotPredictedSlots: [Register.Rflags]),
        new("leave", [0xc9], Memory: true, NotPredictedSlots: [Register.Rbp]),
        new("stosb", [0xaa], Memory: true),
        new("rep stosq", [0xf3, 0x48, 0xab], Memory: true),
        new("rep movsb", [0xf3, 0xa4], Memory: true),
        new("movsq", [0x48, 0xa5], Memory: true),
        new("rep movsd", [0xf3, 0xa5], Memory: true),
        new("lodsb", [0xac], Memory: true, NotPredictedSlots: [Register.Rax]),
        new("mov eax, [rbx]: a load", [0x8b, 0x03], Predicted: false),
        new("add [rbx], eax: a memory destination", [0x01, 0x03], Predicted: false),
        new("cpuid", [0x0f, 0xa2], Predicted: false),
        new("0x40: inc eax in 32-bit code, a lone REX prefix in 64-bit code", [0x40], Predicted: false),
        new("repne scasb", [0xf2, 0xae], Predicted: false),
        new("div rbx", [0x48, 0xf7, 0xf3], Predicted: false),
    ];

    public static readonly byte[][] All = Cases.Select(c => c.Bytes).ToArray();
}
