using System.Runtime.CompilerServices;
using Iced.Intel;
using Slot = Ether.Replay.Formats.Model.Register;
using RegisterFile = Ether.Replay.Formats.Model.RegisterFile;

namespace Ether.Replay.Formats.Instructions;

/// <summary>
/// Feeds Iced's address computation (<see cref="UsedMemory.TryGetVirtualAddress(int, IVATryGetRegisterValueProvider, out ulong)"/>)
/// from a trace <see cref="RegisterFile"/>. One instance is reused for every step: Iced's delegate
/// overloads allocate an adapter per call, the interface overload does not.
/// </summary>
internal sealed class GuestRegisterValues : IVATryGetRegisterValueProvider
{
    [InlineArray(64)]
    private struct VectorBytes { private byte _b0; }

    /// <summary>The thread's registers before the instruction executes.</summary>
    public RegisterFile Registers;

    private VectorBytes _vectorIndex;
    private int _vectorIndexLength;

    /// <summary>Contents of the VSIB index register (xmm/ymm/zmm, little-endian), if the caller has them.</summary>
    public void SetVectorIndex(ReadOnlySpan<byte> bytes)
    {
        int n = Math.Min(bytes.Length, 64);
        bytes[..n].CopyTo(_vectorIndex);
        _vectorIndexLength = n;
    }

    public void ClearVectorIndex() => _vectorIndexLength = 0;

    // Iced numbers the 16 GPRs in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15);
    // the trace numbers them rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8..r15.
    private static ReadOnlySpan<byte> EncodingToSlot =>
    [
        (byte)Slot.Rax, (byte)Slot.Rcx, (byte)Slot.Rdx, (byte)Slot.Rbx,
        (byte)Slot.Rsp, (byte)Slot.Rbp, (byte)Slot.Rsi, (byte)Slot.Rdi,
        (byte)Slot.R8, (byte)Slot.R9, (byte)Slot.R10, (byte)Slot.R11,
        (byte)Slot.R12, (byte)Slot.R13, (byte)Slot.R14, (byte)Slot.R15,
    ];

    public bool TryGetRegisterValue(Register register, int elementIndex, int elementSize, out ulong value)
    {
        if (register >= Register.RAX && register <= Register.R15)
        {
            value = Registers[EncodingToSlot[register - Register.RAX]];
            return true;
        }
        if (register >= Register.EAX && register <= Register.R15D)
        {
            value = (uint)Registers[EncodingToSlot[register - Register.EAX]];
            return true;
        }
        if (register >= Register.AX && register <= Register.R15W)
        {
            value = (ushort)Registers[EncodingToSlot[register - Register.AX]];
            return true;
        }
        switch (register)
        {
            // Iced asks for the segment *base*. In 64-bit mode es/cs/ss/ds have base 0 by definition;
            // in a Linux 32-bit (compat) process they are flat (base 0) too. Only fs and gs carry a base,
            // which ptrace reports as fs_base/gs_base (for 32-bit tasks: the base of the TLS descriptor).
            case Register.ES:
            case Register.CS:
            case Register.SS:
            case Register.DS:
                value = 0;
                return true;
            case Register.FS:
                value = Registers[Slot.FsBase];
                return true;
            case Register.GS:
                value = Registers[Slot.GsBase];
                return true;
        }
        if (register.IsVectorRegister() && (elementSize == 4 || elementSize == 8))
        {
            int offset = elementIndex * elementSize;
            if (offset + elementSize <= _vectorIndexLength)
            {
                ReadOnlySpan<byte> bytes = _vectorIndex;
                // The index elements are signed; Iced sign-extends 4-byte ones itself.
                value = elementSize == 4
                    ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..])
                    : System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[offset..]);
                return true;
            }
        }
        value = 0;
        return false;
    }
}
