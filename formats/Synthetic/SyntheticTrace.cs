using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.LogInternal.Prediction;
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
/// Registers change as the instructions change them (the format's register prediction gives the
/// semantics, checked against the CPU by the tests); values loaded from memory the walk never
/// stored are fresh random words, as a real program's loads of its input are.
/// For benchmarks and tests of everything downstream of the recorder (format, export, TUI).
/// </summary>
public static class SyntheticTrace
{
    /// <summary>Changes whenever the same options give another trace (caches of synthetic traces key on it).
    /// 2: registers follow the instructions' semantics (1 changed them at random).</summary>
    public const int Revision = 2;

    /// <summary>How an instruction of <see cref="Body"/> touches memory.</summary>
    private enum Memory { None, Push, Pop, Store, Load }

    // (bytes, what it does to memory: push/store write rax at rsp-8 / rbp-8, pop/load read rax from rsp / rbp-8)
    private static readonly (byte[] Code, Memory Memory)[] Body =
    [
        ([0x48, 0x89, 0xc3], Memory.None),          // mov rbx, rax
        ([0x48, 0x83, 0xc0, 0x01], Memory.None),    // add rax, 1
        ([0x48, 0x39, 0xd8], Memory.None),          // cmp rax, rbx
        ([0x48, 0x8b, 0x45, 0xf8], Memory.Load),    // mov rax, [rbp-8]
        ([0x48, 0x89, 0x45, 0xf8], Memory.Store),   // mov [rbp-8], rax
        ([0x50], Memory.Push),                      // push rax
        ([0x58], Memory.Pop),                       // pop rax
        ([0x48, 0x8d, 0x04, 0x08], Memory.None),    // lea rax, [rax+rcx]
        ([0x0f, 0xb6, 0xc0], Memory.None),          // movzx eax, al
        ([0x48, 0xff, 0xc1], Memory.None),          // inc rcx
        ([0x31, 0xd2], Memory.None),                // xor edx, edx
        ([0x90], Memory.None),                      // nop
    ];

    private static readonly PredictedOp[] BodyOps = Body.Select(b => PredictedOp.Decode(b.Code, 0, 64)).ToArray();
    private static readonly PredictedOp CallOp = PredictedOp.Decode([0xe8, 0, 0, 0, 0], 0, 64), RetOp = PredictedOp.Decode([0xc3], 0, 64);

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
        var memory = new Dictionary<ulong, ulong>(); // the 8-byte words the walk stored (threads have their own stacks)
        int[] at = new int[o.Threads];
        for (int t = 0; t < o.Threads; t++)
        {
            regs[t][Register.Rsp] = 0x7ffc_0000_0000UL - (ulong)t * 0x10_0000;
            regs[t][Register.Rbp] = regs[t][Register.Rsp] - 0x40;
            regs[t][Register.Rflags] = 0x246;
            regs[t][Register.Cs] = 0x33;
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
                var (bytes, access) = Body[k];
                w.Instruction(pid, tid, rip, bytes);
                rip += (ulong)bytes.Length;
                ulong address = access switch
                {
                    Memory.Push => r.Rsp - 8,
                    Memory.Pop => r.Rsp,
                    Memory.Store or Memory.Load => r[Register.Rbp] - 8,
                    _ => 0,
                };
                if (access is Memory.Push or Memory.Store)
                {
                    memory[address] = r[Register.Rax];
                    if (o.MemoryWrites)
                    {
                        BitConverter.TryWriteBytes(value, r[Register.Rax]);
                        w.MemoryWrite(pid, tid, address, value);
                    }
                }
                RegisterPredictor.Apply(BodyOps[k], ref r);
                if (access is Memory.Pop or Memory.Load)
                    r[Register.Rax] = memory.TryGetValue(address, out ulong stored) ? stored : (ulong)rng.NextInt64();
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
            if (branch[0] == 0xe8)
            {
                RegisterPredictor.Apply(CallOp, ref r);
                memory[r.Rsp] = block.End + 5;
                if (o.MemoryWrites) { BitConverter.TryWriteBytes(value, block.End + 5); w.MemoryWrite(pid, tid, r.Rsp, value); }
            }
            if (branch[0] == 0xc3) RegisterPredictor.Apply(RetOp, ref r);
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
