namespace Ether.Replay.Recorder.Tests.Ptrace;

[Collection("ptrace")]
public sealed class ExactInstructionCountTests
{
    private const int Iterations = 1000;

    [Fact]
    public void Static_loop_records_exactly_its_instructions_in_order()
    {
        string program = TestPrograms.Build("count.S", "-nostdlib", "-static", "-no-pie", $"-DITERATIONS={Iterations}");
        var symbols = ElfSymbols.Read(program);
        ulong I(int n) => symbols[$"i{n}"].Address;

        // By construction: i0, then (i1, i2) per iteration, then i3, i4, i5 (the exit syscall).
        var expected = new List<ulong> { I(0) };
        for (int k = 0; k < Iterations; k++) { expected.Add(I(1)); expected.Add(I(2)); }
        expected.AddRange([I(3), I(4), I(5)]);

        var run = Recordings.Record(program, []);

        var instructions = run.Of<InstructionEvent>().ToList();
        Assert.Equal(1 + 2 * Iterations + 3, instructions.Count);
        Assert.Equal(expected.Count, (int)run.Result.Steps);
        Assert.Equal(expected.Count, (int)run.Summary.LastStep);
        Assert.Equal(expected, instructions.Select(i => i.Rip).ToList());
        // The step clock starts at 1 and advances by one per instruction.
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(s => (long)s), instructions.Select(i => i.Step));
        // The bytes are the ones in the file: dec ecx = ff c9, jnz back = 75 fc, syscall = 0f 05.
        Assert.Equal([0xff, 0xc9], instructions[1].Bytes);
        Assert.Equal([0x75, 0xfc], instructions[2].Bytes);
        Assert.Equal([0x0f, 0x05], instructions[^1].Bytes);
        Assert.All(instructions, i => Assert.Equal(instructions[0].Pid, i.Pid));
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
    }

    [Fact]
    public void Trap_flag_and_rdtsc_handling_neither_add_nor_lose_steps()
    {
        // pushf/popf (the trap-flag account repairs the kernel's bookkeeping with an unrecorded remote
        // call), rdtsc/rdtscp (answered, not executed) and a system call, each exactly one step.
        const int iterations = 200;
        string program = TestPrograms.Build("traps.S", "-nostdlib", "-static", "-no-pie", $"-DITERATIONS={iterations}");
        var symbols = ElfSymbols.Read(program);
        ulong T(int n) => symbols[$"t{n}"].Address;
        var expected = new List<ulong> { T(0) };
        for (int k = 0; k < iterations; k++)
            for (int n = 1; n <= 11; n++) expected.Add(T(n));
        expected.AddRange([T(12), T(13), T(14)]);

        var run = Recordings.Record(program, []);

        var instructions = run.Of<InstructionEvent>().ToList();
        Assert.Equal(expected, instructions.Select(i => i.Rip).ToList());
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(s => (long)s), instructions.Select(i => i.Step));
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
        Assert.Equal(0, run.Result.RootExitCode);
        // Neither the program nor the trace sees the recorder's TF: no pushed flags image has it.
        Assert.All(run.Of<MemoryWriteEvent>().Where(w => instructions.First(i => i.Step == w.Step).Bytes is [0x9c] or [0x66, 0x9c]),
            w => Assert.Equal(0, w.Value[1] & 1));
    }
}
