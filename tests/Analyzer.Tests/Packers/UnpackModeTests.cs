using System.Globalization;
using System.Text.RegularExpressions;
using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Analyzer.Query;
using Ether.Replay.Analyzer.Tests.Support;
using Ether.Replay.Analyzer.Unpack;
using Ether.Replay.Tests.Shared;

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
        string program = dir.File("wx_probe");
        var gcc = EtherProcess.Exec(dir.Path, "gcc", "-O1", "-o", program, Path.Combine(AppContext.BaseDirectory, "Programs", "unpackmode", "wx_probe.c"));
        Assert.True(gcc.ExitCode == 0, gcc.ToString());
        var native = EtherProcess.Exec(dir.Path, program);
        Assert.Contains("rwx code returned 42", native.Stdout);
        Assert.Contains("write into r-x code: SIGSEGV code 2 at +0", native.Stdout);
        Assert.Contains("read into fresh memory: 17 'kernel wrote this'", native.Stdout);

        string trace = dir.File("t.etrace");
        var record = EtherProcess.Run(dir.Path, TimeSpan.FromMinutes(3), "record", "--mode", mode, "--output", trace, "--", program);
        Assert.True(record.ExitCode == 0, record.ToString());
        Assert.Contains(native.Stdout, record.Stdout);
        ulong code = ulong.Parse(CodeAt().Match(record.Stdout + record.Stderr).Groups[1].Value, NumberStyles.HexNumber);

        using var db = AnalysisDatabase.Open(DatasetTarget.Resolve(trace, null, out _));
        Assert.Equal(native.ExitCode, Convert.ToInt32(db.Scalar("SELECT exit_code FROM processes")));
        // The code it wrote and ran is a layer that starts where it called it.
        var layer = UnpackReport.Layers(db).Single(l => l.Layer == 1);
        Assert.Equal(code, layer.EntryAddress);
        // The kernel's write into memory kept read-only was let through and booked as a kernel write.
        Assert.True(Convert.ToInt64(db.Scalar("SELECT count(*) FROM annotations WHERE text LIKE 'read was refused a write%'")) == 1);
        // Its own faults were delivered (recorded as signals), ours were not.
        Assert.Equal(2L, Convert.ToInt64(db.Scalar("SELECT count(*) FROM signals WHERE name = 'SIGSEGV'")));
    }

    [Fact]
    public void The_key_derivation_stub_runs_natively_and_its_original_entry_point_text_and_layer_are_found()
    {
        using var dir = new TempDir();
        var original = UpxStylePacker.BuildStaticOriginal(dir.Path, 300);
        string packed = KdfCrypter.Pack(dir.Path, original, "kdf-packed", KdfRounds);
        var expected = EtherProcess.Exec(dir.Path, original.Path, "arg1");
        var native = EtherProcess.Exec(dir.Path, packed, "arg1");
        Assert.Contains("AT_ENTRY is mine", expected.Stdout);
        Assert.Equal(expected.Stdout, native.Stdout);
        Assert.Equal(expected.ExitCode, native.ExitCode);

        string trace = dir.File("t.etrace");
        var record = EtherProcess.Run(dir.Path, TimeSpan.FromMinutes(3), "record", "--mode", "unpack", "--output", trace, "--", packed, "arg1");
        Assert.True(record.ExitCode == 0, record.ToString());
        Assert.Contains(native.Stdout, record.Stdout);

        var r = EtherProcess.Run(dir.Path, "unpack", trace, "--dump", "dumps");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var db = AnalysisDatabase.Open(DatasetTarget.Resolve(trace, null, out _));
        Assert.Equal(native.ExitCode, Convert.ToInt32(db.Scalar("SELECT exit_code FROM processes")));
        // The 30 M instructions of key derivation ran natively: the trace holds a handful of steps.
        Assert.True(Convert.ToInt64(db.Scalar("SELECT last_step FROM traces")) < 1000);
        var oep = UnpackReport.Oeps(db).Single(o => o.Chosen);
        Assert.Equal(original.Entry, oep.Address);
        Assert.Equal(OepEvidence.EntryState, oep.Evidence);
        var layer = UnpackReport.Layers(db).Single(l => l.OepCandidate);
        Assert.Equal((1, original.Entry), (layer.Layer, layer.EntryAddress));
        string dump = Directory.GetFiles(dir.File("dumps"), $"*-layer1-0x{layer.RegionStart:x}-*.bin").Single();
        byte[] bytes = File.ReadAllBytes(dump);
        Assert.Equal(original.Text, bytes.AsSpan((int)(original.TextAddress - layer.RegionStart!.Value), original.Text.Length).ToArray());
    }

    [GeneratedRegex(@"code at 0x([0-9a-f]+)")]
    private static partial Regex CodeAt();
}
