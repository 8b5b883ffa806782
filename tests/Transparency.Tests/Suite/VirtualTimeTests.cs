using System.Buffers.Binary;
using Ether.Replay.Formats.Log;
using Ether.Replay.Formats.Model;
using Ether.Replay.Recorder.Backends.Ptrace;
using Ether.Replay.Recorder.Recording;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>
/// Virtual time end to end: the clock advances exactly one rate-th of a second per executed
/// instruction (--clock-rate), every time value the program saw is in the trace (the clock's
/// memory writes, rdtsc's registers), and a ten-minute sleep is skipped.
/// </summary>
[Collection("transparency suite")]
public sealed class VirtualTimeTests
{
    private sealed record Run(string Stdout, RecordingResult Result, List<TraceEvent> Events);

    private static Run Record(string program, string mode = "full", long clockRate = PtraceRecordOptions.DefaultClockRate)
    {
        string dir = Directory.CreateTempSubdirectory("tmp.").FullName;
        try
        {
            string trace = Path.Combine(dir, "t.etrace"), stdout = Path.Combine(dir, "out");
            var result = TraceRecorder.Record(new PtraceRecordOptions
            {
                Program = CheckPrograms.Build(program),
                OutputPath = trace,
                Mode = mode,
                ClockRate = clockRate,
                Timeout = TimeSpan.FromMinutes(2),
                Sandbox = new SandboxOptions { StdoutPath = stdout, StdinPath = "/dev/null" },
            });
            using var reader = TraceReader.Open(trace);
            return new Run(File.ReadAllText(stdout), result, reader.Events().ToList());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static long Printed(string stdout, string key) =>
        long.Parse(stdout.Split('\n').Single(l => l.StartsWith(key + " ", StringComparison.Ordinal))[(key.Length + 1)..]);

    [Theory]
    [InlineData(100_000_000L)]
    [InlineData(1_000_000L)]
    public void The_clock_advances_one_rate_th_of_a_second_per_instruction_and_the_trace_holds_what_the_program_saw(long rate)
    {
        var run = Record("time_values", clockRate: rate);
        Assert.Equal(0, run.Result.RootExitCode);
        long a = Printed(run.Stdout, "a"), b = Printed(run.Stdout, "b");
        ulong tsc = (ulong)Printed(run.Stdout, "tsc");

        // The two clock_gettime calls (the vDSO, redirected into system calls): their results are the
        // kernel writes recorded with their exits, and they are what the program printed.
        var exits = run.Events.OfType<SyscallExitEvent>().Where(e => e.Name == "clock_gettime").ToList();
        Assert.Equal(2, exits.Count);
        long[] seen = exits.Select(e => Timespec(run.Events.OfType<MemoryWriteEvent>()
            .Single(w => w.Step == e.Step && w.Tid == e.Tid && (w.Flags & MemoryWriteFlags.Kernel) != 0 && w.Size == 16))).ToArray();
        Assert.Equal([a, b], seen);

        // Exactly one rate-th of a second per instruction between the two calls (one thread: no sharing).
        long instructions = exits[1].Step - exits[0].Step;
        Assert.True(instructions > 3000, $"{instructions} instructions");
        Assert.Equal(instructions * (1_000_000_000 / rate), b - a);

        // rdtsc: one step (not executed: answered), its registers are the value the program printed.
        var rdtsc = run.Events.OfType<InstructionEvent>().Single(i => i.Bytes is [0x0f, 0x31]);
        var regs = run.Events.OfType<RegisterChangeEvent>().First(r => r.Step == rdtsc.Step && r.Tid == rdtsc.Tid).Registers;
        Assert.Equal(tsc, (regs[Register.Rdx] << 32) | (uint)regs[Register.Rax]);
    }

    private static long Timespec(MemoryWriteEvent w) =>
        BinaryPrimitives.ReadInt64LittleEndian(w.Value) * 1_000_000_000 + BinaryPrimitives.ReadInt64LittleEndian(w.Value.AsSpan(8));

    [Theory]
    [InlineData("full")]
    [InlineData("syscalls")]
    public void A_ten_minute_sleep_is_skipped_but_the_clock_says_ten_minutes_passed(string mode)
    {
        var run = Record("long_sleep", mode);
        Assert.Equal(0, run.Result.RootExitCode);
        long slept = Printed(run.Stdout, "slept_ms");
        Assert.InRange(slept, 600_000, 601_000);
        Assert.True(run.Result.Elapsed < TimeSpan.FromSeconds(60), $"recording took {run.Result.Elapsed}");
    }
}
