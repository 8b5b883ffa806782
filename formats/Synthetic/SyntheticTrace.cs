using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.Synthetic;

/// <summary>What a synthetic trace contains besides instructions.</summary>
public sealed record SyntheticOptions
{
    public long Instructions { get; init; } = 1_000_000;
    public int Seed { get; init; } = 1;
    /// <summary>Register changes after every instruction (a keyframe per thread at every chunk start).</summary>
    public bool Registers { get; init; } = true;
    /// <summary>Memory writes for the stores and pushes the program executes.</summary>
    public bool MemoryWrites { get; init; } = true;
    /// <summary>A system call (entry + exit event) every this many instructions; 0 for none.</summary>
    public int SyscallEvery { get; init; } = 10_000;
    public int Threads { get; init; } = 1;
}

/// <summary>
/// Writes a plausible program execution without running anything: real x86-64 encodings, basic
/// blocks with loops, calls and returns, stack stores and syscalls, driven by a seeded random walk.
/// For benchmarks and tests of everything downstream of the recorder (format, export, TUI).
/// </summary>
public static class SyntheticTrace
{
    // (bytes, writes 8 bytes at rsp-8 (push) / rbp-8 (store), register it changes)
    private static readonly (byte[] Code, int Store, Register Changes)[] Body =
    [
        ([0x48, 0x89, 0xc3], 0, Register.Rbx),            // mov rbx, rax
        ([0x48, 0x83, 0xc0, 0x01], 0, Register.Rax),      // add rax, 1
        ([0x48, 0x39, 0xd8], 0, Register.Rflags),         // cmp rax, rbx
        ([0x48, 0x8b, 0x45, 0xf8], 0, Register.Rax),      // mov rax, [rbp-8]
        ([0x48, 0x89, 0x45, 0xf8], 2, Register.Rflags),   // mov [rbp-8], rax
        ([0x50], 1, Register.Rsp),                        // push rax
        ([0x58], 0, Register.Rsp),                        // pop rax
        ([0x48, 0x8d, 0x04, 0x08], 0, Register.Rax),      // lea rax, [rax+rcx]
        ([0x0f, 0xb6, 0xc0], 0, Register.Rax),            // movzx eax, al
        ([0x48, 0xff, 0xc1], 0, Register.Rcx),            // inc rcx
        ([0x31, 0xd2], 0, Register.Rdx),                  // xor edx, edx
        ([0x90], 0, Register.Rflags),                     // nop
    ];

    private static readonly byte[] JneBack = [0x75, 0xf0], JmpNext = [0xeb, 0x00], Call = [0xe8, 0, 0, 0, 0], Ret = [0xc3], JmpFar = [0xe9, 0, 0, 0, 0];

    private static readonly string[] WriteArgs = ["1", "\"synthetic output\"", "16"];

    private sealed class Block
    {
        public ulong Start;
        public int[] Body = [];
        /// <summary>Address of a `syscall` before the branch, 0 when the block has none.</summary>
        public ulong Syscall;
        public ulong End; // address of the branch instruction
    }

    public static void Write(TraceWriter w, SyntheticOptions o, Action<long>? progress = null)
    {
        var rng = new Random(o.Seed);
        var blocks = BuildProgram(rng, out var code);
        var regs = new RegisterFile[o.Threads];
        var callStacks = new Stack<int>[o.Threads];
        int[] at = new int[o.Threads];
        for (int t = 0; t < o.Threads; t++)
        {
            regs[t][Register.Rsp] = 0x7ffc_0000_0000UL - (ulong)t * 0x10_0000;
            regs[t][Register.Rbp] = regs[t][Register.Rsp] - 0x40;
            regs[t][Register.Rflags] = 0x246;
            regs[t].Rip = blocks[0].Start;
            callStacks[t] = new Stack<int>();
        }
        const int pid = 4242;
        Span<byte> value = stackalloc byte[8];
        ReadOnlySpan<byte> syscallCode = [0x0f, 0x05];
        long done = 0;
        int thread = 0;
        while (done < o.Instructions)
        {
            if (o.Threads > 1 && rng.Next(5000) == 0) thread = (thread + 1) % o.Threads;
            int tid = pid + thread;
            ref var r = ref regs[thread];
            var block = blocks[at[thread]];
            ulong rip = block.Start;
            foreach (int k in block.Body)
            {
                var (bytes, store, changes) = Body[k];
                w.Instruction(pid, tid, rip, bytes);
                rip += (ulong)bytes.Length;
                if (o.MemoryWrites && store != 0)
                {
                    ulong address = store == 1 ? r.Rsp - 8 : r[Register.Rbp] - 8;
                    BitConverter.TryWriteBytes(value, r[Register.Rax]);
                    w.MemoryWrite(pid, tid, address, value);
                }
                r[changes] = changes switch
                {
                    Register.Rsp => k == 5 ? r.Rsp - 8 : r.Rsp + 8,
                    Register.Rflags => r[changes] ^ 0x40,
                    _ => r[changes] + (ulong)rng.Next(1, 9),
                };
                r.Rip = rip;
                if (o.Registers) w.Registers(pid, tid, r);
                if (++done >= o.Instructions) return;
            }

            // Blocks with a syscall slot make the call now and then (as if a condition jumped over it).
            if (block.Syscall != 0 && o.SyscallEvery > 0 && rng.Next(Math.Max(1, o.SyscallEvery / 400)) == 0)
            {
                w.Instruction(pid, tid, block.Syscall, syscallCode);
                w.Write(new SyscallEntryEvent { Pid = pid, Tid = tid, Abi = "linux-x86_64", Number = 1, Name = "write", Args = [1, r.Rsp, 16, 0, 0, 0], Decoded = WriteArgs });
                w.Write(new SyscallExitEvent { Pid = pid, Tid = tid, Abi = "linux-x86_64", Number = 1, Name = "write", Return = 16, Decoded = [] });
                r[Register.Rax] = 16;
                if (o.Registers) w.Registers(pid, tid, r);
                done++;
            }

            // The block's branch: loop back, fall through, call or return.
            int roll = rng.Next(100);
            int next;
            byte[] branch;
            if (roll < 55) { next = at[thread]; branch = JneBack; }
            else if (roll < 85) { next = (at[thread] + 1) % blocks.Length; branch = JmpNext; }
            else if (roll < 93 && callStacks[thread].Count < 64) { callStacks[thread].Push((at[thread] + 1) % blocks.Length); next = rng.Next(blocks.Length); branch = Call; }
            else if (callStacks[thread].Count > 0) { next = callStacks[thread].Pop(); branch = Ret; }
            else { next = rng.Next(blocks.Length); branch = JmpFar; }
            w.Instruction(pid, tid, block.End, branch);
            if (branch[0] == 0xe8) { r.Rsp -= 8; if (o.MemoryWrites) { BitConverter.TryWriteBytes(value, block.End + 5); w.MemoryWrite(pid, tid, r.Rsp, value); } }
            if (branch[0] == 0xc3) r.Rsp += 8;
            r[Register.Rflags] ^= 0x40;
            at[thread] = next;
            r.Rip = blocks[next].Start;
            if (o.Registers) w.Registers(pid, tid, r);
            done++;
            if (progress != null && (done & 0xFFFFF) < 16) progress(done);
        }
        _ = code;
    }

    private static Block[] BuildProgram(Random rng, out int codeBytes)
    {
        var blocks = new Block[400];
        ulong address = 0x401000;
        for (int b = 0; b < blocks.Length; b++)
        {
            var body = new int[rng.Next(3, 11)];
            for (int i = 0; i < body.Length; i++) body[i] = rng.Next(Body.Length);
            var block = new Block { Start = address, Body = body };
            foreach (int k in body) address += (ulong)Body[k].Code.Length;
            if (rng.Next(40) == 0)
            {
                block.Syscall = address;
                address += 2;
            }
            block.End = address;
            address += 5 + (ulong)rng.Next(0, 3) * 16; // room for the branch, some padding
            blocks[b] = block;
        }
        codeBytes = (int)(address - 0x401000);
        return blocks;
    }
}
