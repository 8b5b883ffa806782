using System.Buffers.Binary;

namespace Ether.Replay.Recorder.Tests.Ptrace;

[Collection("ptrace")]
public sealed class MemoryWriteTests
{
    [Fact]
    public void Every_write_of_the_program_appears_with_address_size_and_value()
    {
        string program = TestPrograms.Build("writes.S", "-nostdlib", "-static", "-no-pie");
        var sym = ElfSymbols.Read(program);
        ulong At(string name) => sym[name].Address;

        var run = Recordings.Record(program, []);
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);

        ulong rsp0 = run.Of<KeyframeEvent>().First().Registers.Rsp;
        var brk = run.Of<SyscallExitEvent>().Where(e => e.Name == "brk").ToList();
        Assert.Equal(2, brk.Count);
        ulong heap = (ulong)brk[0].Return;
        byte[] pattern = [0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f];

        var expected = new List<(ulong Address, byte[] Value)>
        {
            (rsp0 - 8, U64(0x11223344)),                  // pushq imm32 (sign-extended)
            (rsp0 - 8, U64(0x0102030405060708)),          // mov %rax, (%rsp)
            (rsp0 - 16, U64(At("after_call"))),           // call: the return address
            (At("g32"), U32(0xdeadbeef)),
            (At("g16"), [0x34, 0x12]),
            (At("g8"), [0x7f]),
            (At("g64"), U64(0x0102030405060708)),
            (heap, U64(unchecked((ulong)-2L))),           // first store into memory brk gave
            (heap + 100, U32(0xcafef00d)),
        };
        for (int i = 0; i < 37; i++) expected.Add((At("buf") + (ulong)i, [0xab])); // rep stosb: one element per step
        expected.Add((At("sse"), pattern));               // movups
        expected.Add((At("sse") + 16, pattern));          // movdqa
        expected.Add((At("sse") + 32, pattern[..8]));     // movq
        expected.Add((At("sse") + 40, pattern[..4]));     // movss

        var writes = run.Of<MemoryWriteEvent>().Where(w => (w.Flags & MemoryWriteFlags.Kernel) == 0).ToList();
        Assert.Equal(expected.Count, writes.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Address == writes[i].Address, $"write {i}: address {writes[i].Address:x}, expected {expected[i].Address:x}");
            Assert.Equal(expected[i].Value.Length, writes[i].Size);
            Assert.Equal(expected[i].Value, writes[i].Value);
        }

        // Each write belongs to the step of the instruction that made it: the rep stosb writes are
        // 37 consecutive steps at one rip.
        var instructions = run.Of<InstructionEvent>().ToDictionary(i => i.Step);
        var stos = writes.Where(w => w.Address >= At("buf") && w.Address < At("buf") + 64).ToList();
        Assert.Single(stos.Select(w => instructions[w.Step].Rip).Distinct());
        Assert.Equal(Enumerable.Range(0, 37).Select(k => stos[0].Step + k), stos.Select(w => w.Step));
        Assert.All(stos, w => Assert.Equal([0xf3, 0xaa], instructions[w.Step].Bytes));
    }

    private static byte[] U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
}
