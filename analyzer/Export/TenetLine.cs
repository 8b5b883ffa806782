using System.Text;

namespace Ether.Replay.Analyzer.Export;

/// <summary>
/// One line of a Tenet text trace (gaasedelen/tenet, tracers/README.md): the registers that changed
/// since the previous line (<c>rax=0x…</c>; all of them on the first line), <c>rip=0x…</c> last among
/// the registers, then <c>mr=ADDR:HEX</c> / <c>mw=ADDR:HEX</c> for every memory read and written by the
/// instruction that ran before this line. Tenet's AMD64 parser knows exactly the 16 general-purpose
/// registers and rip (its arch/amd64.py) and rejects any other name, so flags and segment bases stay out.
/// </summary>
internal sealed class TenetLine
{
    /// <summary>Tenet's AMD64 registers (rip aside), with their trace slots.</summary>
    public static readonly (string Name, Register Slot)[] Registers =
    [
        ("rax", Register.Rax), ("rbx", Register.Rbx), ("rcx", Register.Rcx), ("rdx", Register.Rdx),
        ("rbp", Register.Rbp), ("rsp", Register.Rsp), ("rsi", Register.Rsi), ("rdi", Register.Rdi),
        ("r8", Register.R8), ("r9", Register.R9), ("r10", Register.R10), ("r11", Register.R11),
        ("r12", Register.R12), ("r13", Register.R13), ("r14", Register.R14), ("r15", Register.R15),
    ];

    private readonly StringBuilder _memory = new();
    private readonly ulong[] _written = new ulong[Registers.Length];
    private bool _first = true;

    /// <summary>Memory entries waiting for the next line.</summary>
    public bool HasMemory => _memory.Length > 0;

    /// <summary>A memory access of the instruction that runs before the next line (<paramref name="bytes"/>:
    /// the bytes, as many as are known from the start; an access with no known byte is left out).</summary>
    public void Access(bool write, ulong address, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        _memory.Append(write ? ",mw=0x" : ",mr=0x").Append(address.ToString("x")).Append(':');
        foreach (byte b in bytes) _memory.Append(Hex[b >> 4]).Append(Hex[b & 15]);
    }

    private const string Hex = "0123456789abcdef";

    /// <summary>Writes the line for the instruction at <paramref name="rip"/> about to run with <paramref name="registers"/>
    /// (<paramref name="rebase"/> maps each value to the address space the disassembler shows).</summary>
    public void Write(TextWriter output, in RegisterFile registers, ulong rip, Func<ulong, ulong> rebase)
    {
        var line = new StringBuilder(96);
        for (int k = 0; k < Registers.Length; k++)
        {
            ulong value = rebase(registers[Registers[k].Slot]);
            if (!_first && value == _written[k]) continue;
            _written[k] = value;
            line.Append(Registers[k].Name).Append("=0x").Append(value.ToString("x")).Append(',');
        }
        _first = false;
        line.Append("rip=0x").Append(rebase(rip).ToString("x"));
        line.Append(_memory);
        _memory.Clear();
        output.Write(line.Append('\n'));
    }
}
