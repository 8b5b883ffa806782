using System.Globalization;
using System.Text.RegularExpressions;
using Ether.Replay.Analyzer.Unpack;

namespace Ether.Replay.Analyzer.Tests.Packers;

/// <summary>
/// `--mode unpack` (pages kept writable-xor-executable, the program otherwise native): the moments
/// of unpacking are recorded and the program cannot tell (its own faults, its kernel writes).
/// </summary>
public sealed partial class UnpackModeTests
{
    /// <summary>Test (f)'s key derivation: xorshift rounds of about ten instructions each (≥ 20 M instructions).</summary>
    internal const long KdfRounds = 3_000_000;

    [Theory]
    [InlineData("unpack")]
    [InlineData("layers")]
    public void A_program_that_writes_runs_and_faults_on_its_own_pages_behaves_as_natively(string mode)
    {
        using var dir = new TempDir();
        string program = TestProgram.Build(dir.Path, "unpackmode/wx_probe.c", "wx_probe");
        var native = EtherProcess.Exec(dir.Path, program);
        Assert.Contains("rwx code returned 42", native.Stdout);
        Assert.Contains("write into r-x code: SIGSEGV code 2 at +0", native.Stdout);
        Assert.Contains("read into fresh memory: 17 'kernel wrote this'", native.Stdout);

        using var run = PackedRun.Record(dir.Path, mode, native, [program], unpack: false);
        ulong code = ulong.Parse(CodeAt().Match(run.Recorded.Stdout + run.Recorded.Stderr).Groups[1].Value, NumberStyles.HexNumber);
        run.AssertExitCode(native.ExitCode);
        // The code it wrote and ran is a layer that starts where it called it.
        var layer = run.Layers.Single(l => l.Layer == 1);
        Assert.Equal(code, layer.EntryAddress);
        // The kernel's write into memory kept read-only was let through and booked as a kernel write.
        Assert.True(Convert.ToInt64(run.Db.Scalar("SELECT count(*) FROM annotations WHERE text LIKE 'read was refused a write%'")) == 1);
        // Its own faults were delivered (recorded as signals), ours were not.
        Assert.Equal(2L, Convert.ToInt64(run.Db.Scalar("SELECT count(*) FROM signals WHERE name = 'SIGSEGV'")));
    }

    /// <summary>
    /// The whole output is compared, smaps counters included: they are the maps rewriter's work when
    /// it cuts or joins VMAs. What they hold must then depend only on the program and the recorder,
    /// never on the page cache of the program's file, which other processes change between the native
    /// and the recorded run: TestProgram.Build writes the file back (dirty page-cache pages count as
    /// Private_Dirty), and the probe reads every page of the file mappings it prints (pages it never
    /// touched are mapped by fault-around only if still cached: with the file evicted before the native
    /// run it printed "D   Rss: 8 kB", recorded 12 kB). maps_probe.c says why each field is printed.
    /// </summary>
    [Theory]
    [InlineData("unpack")]
    [InlineData("layers")]
    public void A_program_reading_its_own_maps_and_smaps_sees_the_protections_it_asked_for(string mode)
    {
        using var dir = new TempDir();
        string program = TestProgram.Build(dir.Path, "unpackmode/maps_probe.c", "maps_probe");
        var native = EtherProcess.Exec(dir.Path, program);
        Assert.Contains("B maps: +0-+3000 rwxp", native.Stdout); // code run and data written in one rwx mapping: one line
        Assert.Contains("A smaps: +1000-+2000 r--p", native.Stdout);
        Assert.Contains("D maps: +1000-+2000 rwxp", native.Stdout); // a page of its own .data (a file mapping) made rwx
        Assert.Contains("F smaps: +0-+3000 rwxp", native.Stdout);  // a forked child's view

        using var run = PackedRun.Record(dir.Path, mode, native, [program], unpack: false);
        Assert.Equal(native.Stdout, run.Recorded.Stdout);
        run.AssertExitCode(native.ExitCode);
        // What it was shown is not what the kernel said (the pages really were flipped): kept for the analyst.
        Assert.True(Convert.ToInt64(run.Db.Scalar("SELECT count(*) FROM annotations WHERE key = 'transparency' AND text LIKE '%maps at offset%'")) > 0);
    }

    /// <summary>The maps probe's output depends on nothing the page cache holds (see the test above): the
    /// same when its file was just evicted. Before the probe read the pages of its file mappings, the
    /// evicted run printed fewer resident .data pages (fault-around found nothing cached to map).</summary>
    [Fact]
    public void The_maps_probe_prints_the_same_whether_or_not_its_file_is_in_the_page_cache()
    {
        using var dir = new TempDir();
        string program = TestProgram.Build(dir.Path, "unpackmode/maps_probe.c", "maps_probe");
        var cached = EtherProcess.Exec(dir.Path, program);
        TestProgram.EvictFromPageCache(program);
        var evicted = EtherProcess.Exec(dir.Path, program);
        Assert.Equal(0, evicted.ExitCode);
        Assert.Equal(cached.Stdout, evicted.Stdout);
    }

    [Fact]
    public void The_key_derivation_stub_runs_natively_and_its_original_entry_point_text_and_layer_are_found()
    {
        using var dir = new TempDir();
        var original = UpxStylePacker.BuildStaticOriginal(dir.Path, 300);
        string packed = KdfCrypter.Pack(dir.Path, original, "kdf-packed", KdfRounds);
        var expected = EtherProcess.Exec(dir.Path, original.Path, "arg1");
        Assert.Contains("AT_ENTRY is mine", expected.Stdout);
        var native = EtherProcess.Exec(dir.Path, packed, "arg1");
        PackedRun.AssertSameBehaviour(expected, native);

        using var run = PackedRun.Record(dir.Path, "unpack", native, [packed, "arg1"]);
        run.AssertExitCode(native.ExitCode);
        // The 30 M instructions of key derivation ran natively: the trace holds a handful of steps.
        Assert.True(Convert.ToInt64(run.Db.Scalar("SELECT last_step FROM traces")) < 1000);
        var oep = run.Oeps.Single(o => o.Chosen);
        Assert.Equal(original.Entry, oep.Address);
        Assert.Equal(OepEvidence.EntryState, oep.Evidence);
        var layer = run.Layers.Single(l => l.OepCandidate);
        Assert.Equal((1, original.Entry), (layer.Layer, layer.EntryAddress));
        run.AssertDumpHoldsText(layer, original);
    }

    [Theory]
    [InlineData("unpack")]
    [InlineData("layers")]
    public void Mremap_of_memory_the_page_flips_split_succeeds_as_natively_and_the_moved_pages_stay_tracked(string mode)
    {
        using var dir = new TempDir();
        string program = TestProgram.Build(dir.Path, "unpackmode/mremap_probe.c", "mremap_probe");
        var native = EtherProcess.Exec(dir.Path, program);
        Assert.Contains("grown data: 4 6 5", native.Stdout);
        Assert.Contains("code: 42 before the move, 42 after, 43 written after it; data 9", native.Stdout);
        Assert.Contains("mremap over its own split: failed errno 14", native.Stdout); // its own EFAULT stays

        using var run = PackedRun.Record(dir.Path, mode, native, [program], unpack: false);
        Assert.Equal(native.Stdout, run.Recorded.Stdout);
        run.AssertExitCode(native.ExitCode);
        // Both moves ran again after the range was made one mapping; the program's own split did not.
        Assert.Equal(2L, Convert.ToInt64(run.Db.Scalar("SELECT count(*) FROM annotations WHERE text LIKE 'mremap was refused a range%'")));
        // Code written into the grown part after the move is still seen: a layer that starts there.
        ulong grownCode = ulong.Parse(CodeAt().Match(run.Recorded.Stdout + run.Recorded.Stderr).Groups[1].Value, NumberStyles.HexNumber);
        Assert.Contains(run.Layers, l => l.Layer == 1 && l.EntryAddress == grownCode);
    }

    [GeneratedRegex(@"code at 0x([0-9a-f]+)")]
    private static partial Regex CodeAt();
}
