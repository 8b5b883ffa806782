namespace Ether.Replay.Bench;

/// <summary>
/// A 10 M-instruction trace with unpacking layers for the TUI bench's layer jumps (SyntheticTrace has
/// none): a loop that stores to the stack, a write() every 10,000 steps, and every 20,000 steps a
/// small function written into a fresh page and called (layer 0 -> 1 -> 0). Cached under /tmp.
/// </summary>
internal static class TuiBenchTraces
{
    private const int Pid = 4343;
    private const ulong Code = 0x401000, Layers = 0x10000000, Stack = 0x7ff000000;

    public static string Layered(long instructions) =>
        BenchTraces.Cached($"layered-{instructions}", "layered", $"a layered trace of {instructions:N0} instructions", w => Write(w, instructions));

    private static void Write(TraceWriter w, long instructions)
    {
        int pages = (int)(instructions / 20_000) + 1;
        w.Write(new RegionMapEvent { Pid = Pid, Tid = Pid, Start = Code, End = Code + 0x1000, Protection = RegionProtection.Read | RegionProtection.Execute, Name = "/synthetic/layered" });
        w.Write(new RegionMapEvent { Pid = Pid, Tid = Pid, Start = Layers, End = Layers + (ulong)pages * 0x1000, Protection = RegionProtection.Read | RegionProtection.Write | RegionProtection.Execute });
        w.Write(new RegionMapEvent { Pid = Pid, Tid = Pid, Start = Stack, End = Stack + 0x10000, Protection = RegionProtection.Read | RegionProtection.Write, Name = "[stack]" });
        var r = new Ether.Replay.Formats.Model.RegisterFile();
        r[Register.Rsp] = Stack + 0x8000;
        r.Rip = Code;
        w.Registers(Pid, Pid, r);
        Span<byte> value = stackalloc byte[8];
        byte[] function = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3]; // mov eax, 42; ret
        string[] writeArgs = ["1", "\"tick\"", "4"];
        long done = 0;
        int page = 0;
        void Step(ulong rip, ReadOnlySpan<byte> code, ulong next)
        {
            w.Instruction(Pid, Pid, rip, code);
            r.Rip = next;
            w.Registers(Pid, Pid, r);
            done++;
        }
        while (done < instructions)
        {
            // mov [rsp-8], rax; add rax, 1; cmp rax, rbx; jne back
            w.Instruction(Pid, Pid, Code, [0x48, 0x89, 0x44, 0x24, 0xf8]);
            BitConverter.TryWriteBytes(value, r[Register.Rax]);
            w.MemoryWrite(Pid, Pid, r.Rsp - 8, value);
            r.Rip = Code + 5;
            w.Registers(Pid, Pid, r);
            done++;
            r[Register.Rax]++;
            Step(Code + 5, [0x48, 0x83, 0xc0, 0x01], Code + 9);
            r[Register.Rflags] ^= 0x40;
            Step(Code + 9, [0x48, 0x39, 0xd8], Code + 12);
            Step(Code + 12, [0x75, 0xf2], Code);
            if (done % 10_000 < 4)
            {
                w.Instruction(Pid, Pid, Code + 0x20, [0x0f, 0x05]);
                w.Write(new SyscallEntryEvent { Pid = Pid, Tid = Pid, Abi = "linux-x86_64", Number = 1, Name = "write", Args = [1, Stack, 4, 0, 0, 0], Decoded = writeArgs });
                w.Write(new SyscallExitEvent { Pid = Pid, Tid = Pid, Abi = "linux-x86_64", Number = 1, Name = "write", Return = 4 });
                r[Register.Rax] = 4;
                r.Rip = Code;
                w.Registers(Pid, Pid, r);
                done++;
            }
            if (done % 20_000 < 5 && page < pages)
            {
                // Write the function into a fresh page byte by byte, call it, come back.
                ulong at = Layers + (ulong)page++ * 0x1000;
                for (int k = 0; k < function.Length; k++)
                {
                    w.Instruction(Pid, Pid, Code + 0x30, [0x88, 0x07]);
                    w.MemoryWrite(Pid, Pid, at + (ulong)k, function.AsSpan(k, 1));
                    r.Rip = Code + 0x30;
                    w.Registers(Pid, Pid, r);
                    done++;
                }
                r[Register.Rsp] -= 8;
                w.Instruction(Pid, Pid, Code + 0x40, [0xff, 0xd7]);
                BitConverter.TryWriteBytes(value, Code + 0x42);
                w.MemoryWrite(Pid, Pid, r.Rsp, value);
                r.Rip = at;
                w.Registers(Pid, Pid, r);
                done++;
                r[Register.Rax] = 42;
                Step(at, function.AsSpan(0, 5), at + 5);
                r[Register.Rsp] += 8;
                Step(at + 5, function.AsSpan(5, 1), Code + 0x42);
                Step(Code + 0x42, [0xeb, 0xbc], Code);
            }
        }
    }
}
