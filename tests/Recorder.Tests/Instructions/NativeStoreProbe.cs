using System.Buffers.Binary;
using System.Diagnostics;

namespace Ether.Replay.Recorder.Tests.Instructions;

/// <summary>
/// Runs single instructions natively in a small C program (built with gcc at test time) and
/// reports which bytes of a fixed arena each one changed — the ground truth that
/// MemoryOperands.ComputeWrites is checked against. The program loads the given registers (and zmm0..3,
/// k1 = all ones), jumps to the instruction on an RWX page, and jumps straight back. 32-bit cases
/// run in compatibility mode: a far jump to the Linux 32-bit user code segment (0x23) and back
/// to 0x33, as a mixed-mode ("heaven's gate") sample would do; arena, code page and the probe
/// (built -no-pie) all sit below 4 GiB for that.
/// </summary>
internal sealed class NativeStoreProbe
{
    public const ulong ArenaBase = 0x1000_0000;
    public const int ArenaSize = 1 << 20;

    /// <summary>The arena's bytes before every case (the C side fills it the same way).</summary>
    public static byte Pattern(ulong address)
    {
        ulong o = address - ArenaBase;
        return (byte)(o * 7 + (o >> 8) * 13 + 0x5B);
    }

    public sealed class Case
    {
        public required string Name { get; init; }
        public required byte[] Code { get; init; }
        /// <summary>rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8..r15 (the trace's slot order), then rflags.</summary>
        public ulong[] Gpr { get; } = new ulong[16];
        public ulong Rflags { get; set; } = 0x202;
        /// <summary>64, or 32 to run the instruction in compatibility mode.</summary>
        public int Bitness { get; init; } = 64;
        /// <summary>zmm0..zmm3, 64 bytes each.</summary>
        public byte[] Zmm { get; } = new byte[256];
    }

    /// <summary>Changed arena bytes of one case, as (address, length) runs.</summary>
    public sealed record Outcome(string Name, List<(ulong Address, int Length)> Changed);

    private const string Source = """
        #define _GNU_SOURCE
        #include <signal.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <unistd.h>

        #define ARENA ((uint8_t *)0x10000000)
        #define ARENA_SIZE (1 << 20)
        #define CODE ((uint8_t *)0x20000000)

        struct ctx { uint64_t gpr[16]; uint64_t rflags; uint32_t code_len; uint32_t bitness; uint8_t code[16]; uint8_t zmm[256]; };
        _Static_assert(sizeof(struct ctx) == 416, "layout shared with the C# side");

        void run_case(struct ctx *c);
        void run_case_back(void);
        void go64(void);
        void go32(void);
        uint64_t saved_rsp;
        uint64_t code_entry = 0x20000000;
        uint64_t dispatch;
        struct __attribute__((packed)) { uint32_t offset; uint16_t selector; } far32 = { 0x20000000, 0x23 };
        static long current = -1;

        __asm__(
            ".globl run_case\n.globl go64\n.globl go32\n"
            "run_case:\n"
            "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
            "  mov %rsp, saved_rsp(%rip)\n"
            "  mov $0x2b, %eax\n  mov %eax, %ds\n  mov %eax, %es\n" /* compat mode needs usable ds/es */
            "  vmovdqu64 160(%rdi), %zmm0\n  vmovdqu64 224(%rdi), %zmm1\n"
            "  vmovdqu64 288(%rdi), %zmm2\n  vmovdqu64 352(%rdi), %zmm3\n"
            "  kxnorw %k1, %k1, %k1\n"
            "  pushq 128(%rdi)\n  popfq\n"
            "  mov 0(%rdi), %rax\n  mov 8(%rdi), %rbx\n  mov 16(%rdi), %rcx\n  mov 24(%rdi), %rdx\n"
            "  mov 32(%rdi), %rsi\n  mov 48(%rdi), %rbp\n"
            "  mov 64(%rdi), %r8\n  mov 72(%rdi), %r9\n  mov 80(%rdi), %r10\n  mov 88(%rdi), %r11\n"
            "  mov 96(%rdi), %r12\n  mov 104(%rdi), %r13\n  mov 112(%rdi), %r14\n  mov 120(%rdi), %r15\n"
            "  mov 56(%rdi), %rsp\n"
            "  mov 40(%rdi), %rdi\n"
            "  jmp *dispatch(%rip)\n"
            "go64:\n  jmp *code_entry(%rip)\n"
            "go32:\n  ljmp *far32(%rip)\n"
            ".globl run_case_back\n"
            "run_case_back:\n"
            "  mov saved_rsp(%rip), %rsp\n"
            "  xor %eax, %eax\n  mov %eax, %ds\n  mov %eax, %es\n"
            "  cld\n  fninit\n  vzeroupper\n"
            "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
            "  ret\n");

        static void on_fault(int sig, siginfo_t *si, void *uc) {
            (void)uc;
            char line[96];
            int n = snprintf(line, sizeof line, "fault %ld %d %p\n", current, sig, si->si_addr);
            write(1, line, n);
            _exit(3);
        }

        static void fill(uint8_t *p) {
            for (uint64_t o = 0; o < ARENA_SIZE; o++) p[o] = (uint8_t)(o * 7 + (o >> 8) * 13 + 0x5B);
        }

        int main(void) {
            static uint8_t before[ARENA_SIZE];
            static uint8_t altstack[65536];
            stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
            sigaltstack(&ss, 0);
            struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
            sigaction(SIGSEGV, &sa, 0); sigaction(SIGILL, &sa, 0); sigaction(SIGBUS, &sa, 0); sigaction(SIGFPE, &sa, 0);
            if (mmap(ARENA, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != ARENA) return 2;
            if (mmap(CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != CODE) return 2;
            fill(before);
            struct ctx c;
            setvbuf(stdout, 0, _IOFBF, 1 << 16);
            for (current = 0; fread(&c, sizeof c, 1, stdin) == 1; current++) {
                memcpy(ARENA, before, ARENA_SIZE);
                memcpy(CODE, c.code, c.code_len);
                uint8_t *p = CODE + c.code_len;
                uint64_t back = (uint64_t)&run_case_back;
                if (c.bitness == 32) {
                    uint32_t back32 = (uint32_t)back;
                    uint16_t cs64 = 0x33;
                    *p++ = 0xEA; memcpy(p, &back32, 4); memcpy(p + 4, &cs64, 2); /* ljmp 0x33:back */
                    dispatch = (uint64_t)&go32;
                } else {
                    *p++ = 0xFF; *p++ = 0x25; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 0; /* jmp [rip+0] */
                    memcpy(p, &back, 8);
                    dispatch = (uint64_t)&go64;
                }
                run_case(&c);
                printf("case %ld\n", current);
                for (uint64_t o = 0; o < ARENA_SIZE;) {
                    if (ARENA[o] == before[o]) { o++; continue; }
                    uint64_t s = o;
                    while (o < ARENA_SIZE && ARENA[o] != before[o]) o++;
                    printf("%lx %lu\n", (unsigned long)(0x10000000 + s), (unsigned long)(o - s));
                }
            }
            printf("end\n");
            return 0;
        }
        """;

    private readonly string _binary;

    private NativeStoreProbe(string binary) => _binary = binary;

    /// <summary>Builds the probe once per test run.</summary>
    public static NativeStoreProbe Shared => LazyShared.Value;

    private static readonly Lazy<NativeStoreProbe> LazyShared = new(Build);

    private static NativeStoreProbe Build()
    {
        var dir = Directory.CreateTempSubdirectory("ether-written-operands-");
        var source = Path.Combine(dir.FullName, "probe.c");
        var binary = Path.Combine(dir.FullName, "probe");
        File.WriteAllText(source, Source);
        var (code, output) = Run("gcc", ["-O1", "-mavx512f", "-no-pie", "-o", binary, source], null);
        if (code != 0) throw new InvalidOperationException($"gcc failed to build the store probe: {output}");
        return new NativeStoreProbe(binary);
    }

    public List<Outcome> Execute(IReadOnlyList<Case> cases)
    {
        var input = new byte[cases.Count * 416];
        for (int i = 0; i < cases.Count; i++)
        {
            var span = input.AsSpan(i * 416, 416);
            var c = cases[i];
            for (int r = 0; r < 16; r++) BinaryPrimitives.WriteUInt64LittleEndian(span[(r * 8)..], c.Gpr[r]);
            BinaryPrimitives.WriteUInt64LittleEndian(span[128..], c.Rflags);
            if (c.Code.Length > 15) throw new ArgumentException($"{c.Name}: code longer than 15 bytes");
            BinaryPrimitives.WriteUInt32LittleEndian(span[136..], (uint)c.Code.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(span[140..], (uint)c.Bitness);
            c.Code.CopyTo(span[144..]);
            c.Zmm.CopyTo(span[160..]);
        }
        var (exit, output) = Run(_binary, [], input);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var outcomes = new List<Outcome>();
        foreach (var line in lines)
        {
            if (line.StartsWith("fault "))
            {
                int index = int.Parse(line.Split(' ')[1]);
                throw new InvalidOperationException($"probe faulted on case {cases[index].Name}: {line}");
            }
            if (line.StartsWith("case ")) outcomes.Add(new Outcome(cases[outcomes.Count].Name, []));
            else if (line != "end")
            {
                var parts = line.Split(' ');
                outcomes[^1].Changed.Add((Convert.ToUInt64(parts[0], 16), int.Parse(parts[1])));
            }
        }
        if (exit != 0 || lines.Length == 0 || lines[^1] != "end" || outcomes.Count != cases.Count)
            throw new InvalidOperationException($"probe exited {exit} after {outcomes.Count} of {cases.Count} cases");
        return outcomes;
    }

    private static (int Exit, string Output) Run(string file, string[] args, byte[]? stdin)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = stdin != null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin != null)
        {
            try
            {
                process.StandardInput.BaseStream.Write(stdin);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The probe died early (a fault); its output says why.
            }
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
