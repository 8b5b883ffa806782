namespace Ether.Replay.Analyzer.Tests.Support;

/// <summary>
/// A packed (or otherwise unpacking) program recorded the way the packer tests check it: recorded
/// with the real `ether record --mode MODE` (which must succeed and print what the program printed
/// natively), then `ether unpack --dump dumps` (optional), then its dataset opened — the processes,
/// layers, OEP candidates and dumps the assertions look at. One place for that preamble, so tests of
/// every mode (full, syscalls, unpack, layers) read the same way.
/// </summary>
internal sealed class PackedRun : IDisposable
{
    private readonly string _directory;

    /// <summary>What `ether record` printed (the program's own output included).</summary>
    public EtherProcess.Result Recorded { get; }
    /// <summary>What `ether unpack TRACE --dump dumps` printed; null when the run was recorded without it.</summary>
    public EtherProcess.Result? Unpacked { get; }
    public string Trace { get; }
    public AnalysisDatabase Db { get; }

    private PackedRun(string directory, string trace, EtherProcess.Result recorded, EtherProcess.Result? unpacked)
    {
        _directory = directory;
        Trace = trace;
        Recorded = recorded;
        Unpacked = unpacked;
        Db = AnalysisDatabase.Open(DatasetTarget.Resolve(trace, null, out _));
    }

    /// <summary>
    /// Records <paramref name="command"/> in <paramref name="mode"/> into DIRECTORY/t.etrace; the
    /// recording must succeed and its output hold <paramref name="native"/>'s (the program behaved as
    /// natively); with <paramref name="unpack"/>, `ether unpack --dump dumps` must succeed too.
    /// </summary>
    public static PackedRun Record(string directory, string mode, EtherProcess.Result native, string[] command, bool unpack = true)
    {
        string trace = Path.Combine(directory, "t.etrace");
        var record = EtherProcess.Run(directory, TimeSpan.FromMinutes(5), ["record", "--mode", mode, "--output", trace, "--", .. command]);
        Assert.True(record.ExitCode == 0, record.ToString());
        Assert.True(record.Stdout.Contains(native.Stdout, StringComparison.Ordinal), FirstDifference(native.Stdout, record.Stdout));
        EtherProcess.Result? unpacked = null;
        if (unpack)
        {
            unpacked = EtherProcess.Run(directory, "unpack", trace, "--dump", "dumps");
            Assert.True(unpacked.ExitCode == 0, unpacked.ToString());
        }
        return new PackedRun(directory, trace, record, unpacked);
    }

    /// <summary>Where a recorded run's output first departs from the native one (the whole texts are too long for a failure message).</summary>
    private static string FirstDifference(string native, string recorded)
    {
        string[] expected = native.Split('\n'), actual = recorded.Split('\n');
        for (int i = 0; i < expected.Length; i++)
            if (i >= actual.Length || actual[i] != expected[i])
                return $"the recorded output differs from the native one at line {i + 1}: native \"{expected[i]}\", recorded \"{(i < actual.Length ? actual[i] : "(end)")}\"";
        return "the recorded output does not hold the native one";
    }

    /// <summary>Two runs of a program (e.g. the original and its packed form, natively) print the same and exit alike.</summary>
    public static void AssertSameBehaviour(EtherProcess.Result expected, EtherProcess.Result actual)
    {
        Assert.Equal(expected.Stdout, actual.Stdout);
        Assert.Equal(expected.ExitCode, actual.ExitCode);
    }

    public List<LayerRow> Layers => UnpackReport.Layers(Db);
    public List<OepRow> Oeps => UnpackReport.Oeps(Db);
    public List<TransitionRow> Transitions => UnpackReport.Transitions(Db);

    /// <summary>The recorded exit code equals the native one: of the only process, or of the last program exec'd.</summary>
    public void AssertExitCode(int native, bool lastExec = false) =>
        Assert.Equal(native, Convert.ToInt32(Db.Scalar(lastExec
            ? "SELECT exit_code FROM processes WHERE pid = (SELECT max(pid) FROM execs)"
            : "SELECT exit_code FROM processes")));

    /// <summary>The one file of the dump folder matching <paramref name="pattern"/>.</summary>
    public string Dump(string pattern) => Directory.GetFiles(Path.Combine(_directory, "dumps"), pattern).Single();

    /// <summary>The layer's memory dump holds <paramref name="original"/>'s .text byte for byte at its address (+ the load base of a PIE).</summary>
    public void AssertDumpHoldsText(LayerRow layer, OriginalProgram original, ulong loadBase = 0)
    {
        byte[] bytes = File.ReadAllBytes(Dump($"pid{layer.Pid}-image{layer.Image}-layer{layer.Layer}-0x{layer.RegionStart:x}-*.bin"));
        ulong text = loadBase + original.TextAddress;
        Assert.Equal(original.Text, bytes.AsSpan((int)(text - layer.RegionStart!.Value), original.Text.Length).ToArray());
    }

    /// <summary>--dump wrote the exec'd image whole: <paramref name="original"/>'s file, which runs and prints what <paramref name="expected"/> did.</summary>
    public void AssertExecImageIs(OriginalProgram original, EtherProcess.Result expected, params string[] args)
    {
        string image = Dump("*-exec.elf");
        Assert.Equal(File.ReadAllBytes(original.Path), File.ReadAllBytes(image));
        var rerun = EtherProcess.Exec(_directory, image, args);
        Assert.Equal(expected.Stdout, rerun.Stdout);
    }

    public void Dispose() => Db.Dispose();
}
