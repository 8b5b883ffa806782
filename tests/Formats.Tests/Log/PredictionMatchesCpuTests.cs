using System.Globalization;
using System.Text;
using Ether.Replay.Formats.LogInternal.Prediction;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// The register predictor against this machine's CPU: a program built here runs every predicted
/// instruction form on thousands of register values (interesting boundaries and random ones) and
/// prints the registers before and after; the prediction must match in every register and flag it
/// claims to know. A mismatch would only cost trace bytes, never correctness, but it would mean the
/// format document describes x86 wrongly.
/// </summary>
public class PredictionMatchesCpuTests
{
    private const int RunsPerCase = 300;

    [Fact]
    public void Every_predicted_form_computes_what_the_cpu_computes()
    {
        var cases = PredictableCode.Cases.Where(c => c.Predicted).ToArray();
        string dir = Directory.CreateTempSubdirectory("ether-predict-cpu-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "cases.S"), Assembly(cases));
            File.WriteAllText(Path.Combine(dir, "driver.c"), Driver);
            var gcc = EtherProcess.Exec(dir, "gcc", "-O1", "-no-pie", "-o", "harness", "driver.c", "cases.S");
            Assert.True(gcc.ExitCode == 0, gcc.ToString());
            var run = EtherProcess.Exec(dir, Path.Combine(dir, "harness"), RunsPerCase.ToString(CultureInfo.InvariantCulture));
            Assert.True(run.ExitCode == 0, run.ToString());

            bool amd = File.ReadAllText("/proc/cpuinfo").Contains("AuthenticAMD", StringComparison.Ordinal);
            var ops = new PredictedOps();
            var failures = new List<string>();
            int lines = 0;
            foreach (var line in run.StdoutLines)
            {
                var v = line.Split(' ').Select(x => ulong.Parse(x, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
                var c = cases[v[0]];
                ulong rip = v[1];
                var before = new RegisterFile();
                for (int i = 0; i < 16; i++) before[i] = v[2 + i];
                before[Register.Rflags] = v[18];
                before[Register.Rsp] = v[19];
                before[Register.Cs] = 0x33;
                var after = before;
                for (int i = 0; i < 16; i++) after[i] = v[20 + i];
                after[Register.Rflags] = v[36];

                ops.Clear();
                var op = ops.Get(0, c.Bytes, rip, 64);
                Assert.True(op.Kind != PredictKind.None, $"{c}: not predicted");
                var predicted = before;
                RegisterPredictor.Apply(op, ref predicted);
                lines++;

                var skip = c.NotPredictedSlots ?? [];
                for (int slot = 0; slot < 16; slot++)
                    if (!skip.Contains((Register)slot) && predicted[slot] != after[slot])
                        failures.Add($"{c}: {Registers.Names[slot]} predicted {predicted[slot]:x}, cpu {after[slot]:x} (before: {before})");
                if (!skip.Contains(Register.Rflags))
                {
                    ulong compared = StatusFlags.All | StatusFlags.DF;
                    if (!amd) compared &= ~c.UndefinedFlags;
                    ulong diff = (predicted[Register.Rflags] ^ after[Register.Rflags]) & compared;
                    if (diff != 0) failures.Add($"{c}: flags {diff:x} differ, predicted {predicted[Register.Rflags]:x}, cpu {after[Register.Rflags]:x} (before: {before})");
                }
            }
            Assert.Equal(cases.Length * RunsPerCase, lines);
            Assert.True(failures.Count == 0, $"{failures.Count} mismatches in: " +
                string.Join(", ", failures.GroupBy(f => f[..f.IndexOf(':')]).Select(g => $"{g.Key} ({g.Count()})")) +
                $"; first of each:\n{string.Join('\n', failures.GroupBy(f => f[..f.IndexOf(':')]).Select(g => g.First()))}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Near_misses_are_not_predicted()
    {
        var ops = new PredictedOps();
        foreach (var c in PredictableCode.Cases.Where(c => !c.Predicted))
        {
            ops.Clear();
            Assert.True(ops.Get(0, c.Bytes, 0x401000, 64).Kind == PredictKind.None, c.Text);
        }
        // 0x40 is inc eax in 32-bit code (a compat cs): predicted there.
        ops.Clear();
        var compat = new RegisterFile { [Register.Cs] = 0x23 };
        Assert.Equal(PredictKind.Inc, ops.Get(0, [0x40], 0x401000, PredictedOps.Bitness(compat)).Kind);
    }

    /// <summary>One function per case: load every register but rsp from g_in (flags first), note rsp,
    /// run the instruction's bytes, store every register and the flags to g_out, restore the C world.</summary>
    private static string Assembly(CodeCase[] cases)
    {
        int[] slotOrder = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15];
        string[] names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
        var s = new StringBuilder();
        s.AppendLine(".intel_syntax noprefix");
        s.AppendLine(".bss\n.globl g_in, g_out, g_rsp\ng_in: .space 136\ng_out: .space 136\ng_rsp: .space 8\nsaved_rsp: .space 8");
        s.AppendLine(".data\n.globl g_cases, g_rips, g_memory, g_count");
        s.AppendLine($"g_count: .long {cases.Length}");
        s.AppendLine("g_cases: " + string.Join('\n', cases.Select((_, i) => $".quad case_{i}")));
        s.AppendLine("g_rips: " + string.Join('\n', cases.Select((_, i) => $".quad insn_{i}")));
        s.AppendLine("g_memory: " + string.Join('\n', cases.Select(c => $".byte {(c.Memory ? 1 : 0)}")));
        s.AppendLine(".text");
        for (int i = 0; i < cases.Length; i++)
        {
            s.AppendLine($"case_{i}:");
            s.AppendLine("push rbx\npush rbp\npush r12\npush r13\npush r14\npush r15\nsub rsp, 256");
            s.AppendLine("mov [rip+saved_rsp], rsp");
            if (cases[i].Prologue is { } prologue) s.AppendLine(prologue.Replace("{after}", $"after_{i}", StringComparison.Ordinal));
            s.AppendLine("push qword ptr [rip+g_in+128]\npopfq");
            foreach (int slot in slotOrder) s.AppendLine($"mov {names[slot]}, [rip+g_in+{slot * 8}]");
            s.AppendLine("mov [rip+g_rsp], rsp");
            s.AppendLine($"insn_{i}: .byte {string.Join(',', cases[i].Bytes.Select(b => $"0x{b:x2}"))}");
            s.AppendLine($"after_{i}:");
            for (int slot = 0; slot < 16; slot++) s.AppendLine($"mov [rip+g_out+{slot * 8}], {names[slot]}");
            s.AppendLine("pushfq\npop qword ptr [rip+g_out+128]\ncld");
            s.AppendLine("mov rsp, [rip+saved_rsp]\nadd rsp, 256\npop r15\npop r14\npop r13\npop r12\npop rbp\npop rbx\nret");
        }
        s.AppendLine(".section .note.GNU-stack,\"\",@progbits");
        return s.ToString();
    }

    /// <summary>Draws register values (boundaries, small counts, random), runs each case, prints
    /// "case rip in[16] flags rsp-before out[16] flags-after" in hex.</summary>
    private const string Driver = """
        #include <stdio.h>
        #include <stdint.h>
        #include <stdlib.h>
        extern uint64_t g_in[17], g_out[17], g_rsp, g_rips[];
        extern void (*g_cases[])(void);
        extern unsigned char g_memory[];
        extern int g_count;
        static uint64_t state = 88172645463325252ull;
        static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
        static uint64_t value(void) {
            static const uint64_t special[] = { 0, 1, 2, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull, 0xff00, 0x8080 };
            switch (next() % 4) {
                case 0: return special[next() % (sizeof special / sizeof special[0])];
                case 1: return next() % 300;
                case 2: return next() & 0xffffffff;
                default: return next();
            }
        }
        static unsigned char buffer[8192] __attribute__((aligned(64)));
        int main(int argc, char **argv) {
            int runs = atoi(argv[1]);
            for (int c = 0; c < g_count; c++)
                for (int k = 0; k < runs; k++) {
                    for (int i = 0; i < 16; i++) g_in[i] = value();
                    g_in[16] = 0x202 | (next() & 0xcd5); /* CF PF AF ZF SF DF OF */
                    if (g_memory[c]) {
                        g_in[5] = (uint64_t)(buffer + 4096); g_in[4] = (uint64_t)(buffer + 2048);
                        g_in[6] = (uint64_t)(buffer + 1024); g_in[2] = next() % 2; /* rep runs whole here: one iteration at most, as one single step does */
                        *(uint64_t *)(buffer + 1024) = next();
                    }
                    g_cases[c]();
                    printf("%x %llx", c, (unsigned long long)g_rips[c]);
                    for (int i = 0; i < 17; i++) printf(" %llx", (unsigned long long)g_in[i]);
                    printf(" %llx", (unsigned long long)g_rsp);
                    for (int i = 0; i < 17; i++) printf(" %llx", (unsigned long long)g_out[i]);
                    printf("\n");
                }
            return 0;
        }
        """;
}
