using System.Globalization;
using System.Text.RegularExpressions;
using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Tests.Packers;

/// <summary>
/// `--mode layers` (unpack mode, plus single-stepping while execution is inside written code): the
/// payload's instructions are in the trace one by one — the same as `--mode full` records of the
/// unpacked program — while the unpacker and the code the payload calls out to run natively.
/// </summary>
public sealed partial class LayersModeTests
{
    [Fact]
    public void The_crypters_payload_is_stepped_instruction_by_instruction_after_its_native_key_derivation()
    {
        using var dir = new TempDir();
        var original = UpxStylePacker.BuildStaticOriginal(dir.Path, 300);
        string packed = KdfCrypter.Pack(dir.Path, original, "kdf-packed", UnpackModeTests.KdfRounds);
        var native = EtherProcess.Exec(dir.Path, packed, "arg1");
        PackedRun.AssertSameBehaviour(EtherProcess.Exec(dir.Path, original.Path, "arg1"), native);
        using var run = PackedRun.Record(dir.Path, "layers", native, [packed, "arg1"]);
        run.AssertExitCode(native.ExitCode);
        Assert.Contains("written code", run.Recorded.Stderr); // the mode's counts in the summary

        // What the original does, every instruction: --mode full of the unpacked program itself.
        string reference = dir.File("original.etrace");
        var full = EtherProcess.Run(dir.Path, TimeSpan.FromMinutes(3), "record", "--mode", "full", "--output", reference, "--", original.Path, "arg1");
        Assert.True(full.ExitCode == 0, full.ToString());

        // The same layer and OEP as unpack mode finds (UnpackModeTests), and the dump holds the original .text.
        var db = run.Db;
        var oep = run.Oeps.Single(o => o.Chosen);
        Assert.Equal((original.Entry, OepEvidence.EntryState), (oep.Address, oep.Evidence));
        var layer = run.Layers.Single(l => l.OepCandidate);
        Assert.Equal((1, original.Entry), (layer.Layer, layer.EntryAddress));
        run.AssertDumpHoldsText(layer, original);
        // `ether unpack` says what its instruction counts cover in this mode (layer 0 ran natively).
        Assert.Contains("note: recorded in --mode layers: instruction counts cover written code", run.Unpacked!.Stdout);

        // The 39 M instructions of key derivation ran natively: a handful of steps before the OEP.
        Assert.True(oep.Step < 1000, $"OEP at step {oep.Step}");
        // From the OEP on, every instruction of the original is a step: the same instructions in the
        // same order as the original recorded in full mode, and the same memory writes.
        using var refDb = AnalysisDatabase.Open(DatasetTarget.Resolve(reference, null, out _));
        var payload = Rips(db, $"WHERE step >= {oep.Step}");
        var all = Rips(refDb, "");
        Assert.True(all.Count > 1000, $"the original ran {all.Count} instructions");
        Assert.Equal(all, payload);
        Assert.All(db.Rows($"SELECT DISTINCT layer FROM instructions WHERE step >= {oep.Step}"), row => Assert.Equal(1, Convert.ToInt32(row[0])));
        var writes = Writes(db, $"AND step >= {oep.Step}");
        var refWrites = Writes(refDb, "");
        Assert.True(refWrites.Count > 100, $"the original made {refWrites.Count} writes");
        Assert.Equal(refWrites.Count, writes.Count);
        for (int i = 0; i < writes.Count; i++)
        {
            Assert.Equal((refWrites[i].Rip, refWrites[i].Size), (writes[i].Rip, writes[i].Size));
            // Values are the same but for stack addresses (the stack is placed at random in each run)
            // and the registers the original's prologue saves: after an exec they are 0, after the
            // stub they hold what it left there.
            if (LooksLikeStackAddress(refWrites[i].Value) || refWrites[i].Value == writes[i].Value) continue;
            string insn = Convert.ToString(db.Scalar($"SELECT disasm(bytes, rip) FROM instructions WHERE rip = {writes[i].Rip} LIMIT 1"))!;
            Assert.True(i < 8 && insn.StartsWith("push", StringComparison.Ordinal) && refWrites[i].Value == "0000000000000000",
                $"write #{i} by 0x{writes[i].Rip:x} ({insn}): {writes[i].Value}, the original wrote {refWrites[i].Value}");
        }
    }

    [Fact]
    public void Written_code_that_calls_out_is_stepped_and_the_code_it_calls_runs_natively()
    {
        const int Rounds = 100;
        using var dir = new TempDir();
        string program = TestProgram.Build(dir.Path, "layersmode/callout_probe.c", "callout_probe", $"-DROUNDS={Rounds}");
        var native = EtherProcess.Exec(dir.Path, program);
        Assert.Contains($"callbacks: {Rounds}, total", native.Stdout);

        var counts = new Dictionary<string, (long InCode, long All)>();
        foreach (string mode in new[] { "layers", "full" })
        {
            using var run = PackedRun.Record(Directory.CreateDirectory(dir.File(mode)).FullName, mode, native, [program], unpack: false);
            Assert.Equal(native.Stdout, run.Recorded.Stdout);
            run.AssertExitCode(native.ExitCode);
            ulong code = ulong.Parse(CodeAt().Match(run.Recorded.Stderr).Groups[1].Value, NumberStyles.HexNumber);
            var row = run.Db.Rows($"SELECT count(*) FILTER (WHERE rip >= {code} AND rip < {code + 4096}), count(*) FROM instructions").Single();
            counts[mode] = (Convert.ToInt64(row[0]), Convert.ToInt64(row[1]));
            if (mode == "layers")
            {
                // Each return from the callback is an entry into written code, and so are the two calls of it.
                Assert.Matches($@"written code\s+{Rounds + 3 + 2} entries", run.Recorded.Stderr);
                Assert.Equal(code, run.Layers.Single(l => l.Layer == 1).EntryAddress);
                // `ether at` says what a step of a mixed trace is: a native thread's system call (a tick), or a stepped instruction.
                long tick = Convert.ToInt64(run.Db.Scalar("SELECT min(entry_step) FROM syscalls WHERE entry_step > 0 AND entry_step NOT IN (SELECT step FROM instructions)"));
                var at = EtherProcess.Run(dir.Path, "at", run.Trace, "--step", tick.ToString(CultureInfo.InvariantCulture));
                Assert.True(at.ExitCode == 0, at.ToString());
                Assert.Contains("recorded in --mode layers", at.Stdout);
                Assert.Contains("a tick: a system call of a thread running natively", at.Stdout);
            }
        }
        // Every instruction of the written loop is in both traces; the callback and libc are stepped only in full mode.
        Assert.Equal(counts["full"].InCode, counts["layers"].InCode);
        Assert.True(counts["layers"].InCode >= 5 * Rounds, $"{counts["layers"].InCode} stepped in the written code");
        Assert.True(counts["layers"].All - counts["layers"].InCode < 100, $"{counts["layers"].All - counts["layers"].InCode} steps outside the written code");
        Assert.True(counts["full"].All > 10 * counts["layers"].All, $"full {counts["full"].All}, layers {counts["layers"].All}");
    }

    [Theory]
    [InlineData("unpack")]
    [InlineData("layers")]
    public void Threads_racing_into_written_code_behave_as_natively(string mode)
    {
        using var dir = new TempDir();
        string program = TestProgram.Build(dir.Path, "layersmode/threads_probe.c", "threads_probe", "-pthread");
        var native = EtherProcess.Exec(dir.Path, program);
        Assert.Contains("sum ", native.Stdout);
        // Their faults on the page arrive while another thread has flipped or opened it since (a stale fault: the access runs again).
        for (int run = 0; run < 3; run++)
        {
            using var recorded = PackedRun.Record(Directory.CreateDirectory(dir.File($"{mode}{run}")).FullName, mode, native, [program], unpack: false);
            Assert.Equal(native.Stdout, recorded.Recorded.Stdout);
            recorded.AssertExitCode(native.ExitCode);
        }
    }

    /// <summary>
    /// Threads and CLONE_VM processes in written code at once: while one of them steps inside, the
    /// pages are executable for all of them, so every other one must step too (none may run the
    /// written code natively, unrecorded). The program counts natively what it runs in the page;
    /// the trace must hold exactly that many instructions there, per process. One CLONE_VM process
    /// is killed while inside: the main thread's later run of the page is recorded whole too.
    /// </summary>
    [Fact]
    public void Every_instruction_any_thread_runs_inside_written_code_is_in_the_trace()
    {
        using var dir = new TempDir();
        string program = TestProgram.Build(dir.Path, "layersmode/threads_count_probe.c", "threads_count_probe", "-pthread");
        var native = EtherProcess.Exec(dir.Path, program);
        Assert.Equal(0, native.ExitCode);
        Assert.Contains("child killed inside written code", native.Stdout);
        long expected = long.Parse(InWrittenPage().Match(native.Stdout).Groups[1].Value, CultureInfo.InvariantCulture);
        long child = 3 * long.Parse(ChildSpins().Match(native.Stdout).Groups[1].Value, CultureInfo.InvariantCulture) + 2;
        Assert.True(expected > 10_000 && child > 1000, native.Stdout);
        for (int run = 0; run < 3; run++)
        {
            using var recorded = PackedRun.Record(Directory.CreateDirectory(dir.File($"run{run}")).FullName, "layers", native, [program], unpack: false);
            Assert.Equal(native.Stdout, recorded.Recorded.Stdout);
            recorded.AssertExitCode(native.ExitCode);
            ulong code = ulong.Parse(CodeAt().Match(recorded.Recorded.Stderr).Groups[1].Value, NumberStyles.HexNumber);
            // The program's process (4 threads + main), the CLONE_VM process, the one killed inside.
            var perPid = recorded.Db.Rows($"SELECT count(*), count(DISTINCT tid) FROM instructions WHERE rip >= {code} AND rip < {code + 4096} GROUP BY pid ORDER BY count(DISTINCT tid) DESC, min(step)")
                .Select(r => (Count: Convert.ToInt64(r[0]), Threads: Convert.ToInt64(r[1]))).ToList();
            string seen = $"run {run}: instructions in the written page by process: {string.Join(", ", perPid)}, expected {expected - child}, {child}";
            Assert.True(perPid.Count == 3, seen);
            Assert.True(perPid[0] == (expected - child, 5L), seen);
            Assert.True(perPid[1] == (child, 1L), seen);
            // It ran at least the 1000 increments the main thread waited for (inc + jmp each), stepped.
            Assert.True(perPid[2].Count >= 1999 && perPid[2].Threads == 1, seen);
        }
    }

    [GeneratedRegex(@"instructions in the written page: (\d+)")]
    private static partial Regex InWrittenPage();

    [GeneratedRegex(@"clone_vm child: spin (\d+)")]
    private static partial Regex ChildSpins();

    private static List<ulong> Rips(AnalysisDatabase db, string where) =>
        db.Rows($"SELECT rip FROM instructions {where} ORDER BY step").Select(r => Convert.ToUInt64(r[0])).ToList();

    private static List<(ulong Rip, long Size, string Value)> Writes(AnalysisDatabase db, string and) =>
        db.Rows($"SELECT rip, size, value FROM memory_writes WHERE NOT kernel {and} ORDER BY step, address")
            .Select(r => (Convert.ToUInt64(r[0]), Convert.ToInt64(r[1]), Convert.ToHexString((byte[])r[2]!))).ToList();

    /// <summary>An 8-byte little-endian value 0x00007ff…: a stack address.</summary>
    private static bool LooksLikeStackAddress(string hex) => hex.Length == 16 && hex.EndsWith("7F0000", StringComparison.Ordinal);

    [GeneratedRegex(@"code at 0x([0-9a-f]+)")]
    private static partial Regex CodeAt();
}
