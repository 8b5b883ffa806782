using System.Text;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;
using Ether.Replay.Recorder.Backends.Ptrace.Unpacking;

namespace Ether.Replay.Recorder.Tests.Transparency;

/// <summary>
/// /proc/PID/maps and smaps in `--mode unpack` (<see cref="ImaginaryMapsRewriter"/>): the kernel's
/// text for the real (flipped) protections in, the program's own protections out, lines cut and
/// joined as the kernel prints its VMAs (72-column padding before the name, "inode " when nameless).
/// </summary>
public sealed class ImaginaryMapsRewriterTests
{
    private const int R = WxPages.ProtRead, W = WxPages.ProtWrite, X = WxPages.ProtExec;
    private const string Prog = "                               /tmp/prog"; // padding to column 73 after "00400000-00401000 r-xp 00000000 fe:00 1234 "

    private static readonly HashSet<ulong> Present = [0x7f0000001000, 0x7f0000003000, 0x7f0000010000, 0x7f0000011000];

    private static WxPages Pages()
    {
        var pages = new WxPages();
        pages.Set(0x7f0000000000, R | W | WxPages.Dirty | WxPages.Written); // written: really rw-
        pages.Set(0x7f0000001000, R | WxPages.Accounted);                   // mapped writable, made read-only before any write
        pages.Set(0x7f0000002000, R | W);                                   // clean: really r--
        pages.Set(0x7f0000003000, R | W);
        pages.Set(0x7f0000010000, R | W | X);                               // ran: really r-x
        pages.Set(0x7f0000011000, R | W | X | WxPages.Dirty);               // written since: really rw-
        pages.Set(0x00601000, R | W | X);                                   // .data made rwx, clean: really r-x
        pages.Set(0x00701000, R | W);                                       // a file page made writable, clean: really r--
        return pages;
    }

    private static string Rewrite(string text, WxPages? pages, string name = "maps") =>
        Encoding.Latin1.GetString(new ImaginaryMapsRewriter(_ => pages, (_, start, end) => Present.Count(p => p >= start && p < end))
            .Rewrite(new ProcFileName(42, 0, name), Encoding.Latin1.GetBytes(text), new ProcReader(42, 42)));

    private const string RealMaps =
        "00400000-00401000 r-xp 00000000 fe:00 1234" + Prog + "\n" +
        "00600000-00601000 rw-p 00002000 fe:00 1234" + Prog + "\n" +
        "00601000-00602000 r-xp 00003000 fe:00 1234" + Prog + "\n" +
        "00602000-00603000 rw-p 00004000 fe:00 1234" + Prog + "\n" +
        "00700000-00703000 r--p 00005000 fe:00 1234" + Prog + "\n" +
        "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n" +
        "7f0000001000-7f0000004000 r--p 00000000 00:00 0 \n" +
        "7f0000010000-7f0000011000 r-xp 00000000 00:00 0 \n" +
        "7f0000011000-7f0000012000 rw-p 00000000 00:00 0 \n" +
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";

    [Fact]
    public void Maps_shows_the_programs_protections_cut_and_joined_as_the_kernel_would()
    {
        string shown = Rewrite(RealMaps, Pages());
        Assert.Equal(
            "00400000-00401000 r-xp 00000000 fe:00 1234" + Prog + "\n" +
            "00600000-00601000 rw-p 00002000 fe:00 1234" + Prog + "\n" +
            "00601000-00602000 rwxp 00003000 fe:00 1234" + Prog + "\n" +   // its own protection, its own offset
            "00602000-00603000 rw-p 00004000 fe:00 1234" + Prog + "\n" +
            "00700000-00701000 r--p 00005000 fe:00 1234" + Prog + "\n" +   // cut in three: the offsets follow
            "00701000-00702000 rw-p 00006000 fe:00 1234" + Prog + "\n" +
            "00702000-00703000 r--p 00007000 fe:00 1234" + Prog + "\n" +
            "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n" +
            "7f0000001000-7f0000002000 r--p 00000000 00:00 0 \n" +
            "7f0000002000-7f0000004000 rw-p 00000000 00:00 0 \n" +
            "7f0000010000-7f0000012000 rwxp 00000000 00:00 0 \n" +          // one mapping again: ran + written since
            "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n",
            shown);
    }

    [Fact]
    public void Without_managed_pages_the_kernels_text_is_shown_as_it_is()
    {
        Assert.Equal(RealMaps, Rewrite(RealMaps, null));
        Assert.Equal(RealMaps, Rewrite(RealMaps, new WxPages()));
        var elsewhere = new WxPages();
        elsewhere.Set(0x7e0000000000, R | W);
        Assert.Equal(RealMaps, Rewrite(RealMaps, elsewhere));
    }

    [Fact]
    public void Only_maps_and_smaps_of_processes_are_wanted()
    {
        var r = new ImaginaryMapsRewriter(_ => null);
        Assert.True(r.Wants(new ProcFileName(42, 0, "maps")));
        Assert.True(r.Wants(new ProcFileName(42, 43, "smaps")));
        Assert.False(r.Wants(new ProcFileName(42, 0, "status")));
        Assert.False(r.Wants(new ProcFileName(0, 0, "maps")));
    }

    private static string Body(int sizeKb, int rssKb, string flags) =>
        $"Size:           {sizeKb,8} kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\nRss:            {rssKb,8} kB\n" +
        $"Pss:            {rssKb,8} kB\nPrivate_Dirty:  {rssKb,8} kB\nAnonymous:      {rssKb,8} kB\nTHPeligible:           0\nVmFlags: {flags}\n";

    [Fact]
    public void Smaps_headers_sizes_resident_counters_and_flags_follow_the_cut_and_the_join()
    {
        string real =
            "7f0000001000-7f0000004000 r--p 00000000 00:00 0 \n" + Body(12, 8, "rd mr mw me ") +
            "7f0000010000-7f0000011000 r-xp 00000000 00:00 0 \n" + Body(4, 4, "rd ex mr mw me ") +
            "7f0000011000-7f0000012000 rw-p 00000000 00:00 0 \n" + Body(4, 4, "rd wr mr mw me ac ") +
            "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n" + Body(132, 16, "rd wr mr mw me gd ac ");
        string shown = Rewrite(real, Pages(), "smaps");
        Assert.Equal(
            // Two resident pages (0x1000 and 0x3000): one in each piece.
            // The page the program made read-only was writable once: accounted ("ac") natively, not by the kernel here.
            "7f0000001000-7f0000002000 r--p 00000000 00:00 0 \n" + Body(4, 4, "rd mr mw me ac ") +
            "7f0000002000-7f0000004000 rw-p 00000000 00:00 0 \n" + Body(8, 4, "rd wr mr mw me ac ") +
            "7f0000010000-7f0000012000 rwxp 00000000 00:00 0 \n" + Body(8, 8, "rd wr ex mr mw me ac ") +
            "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n" + Body(132, 16, "rd wr mr mw me gd ac "),
            shown);
    }

    [Theory]
    [InlineData("Size:                264 kB", 8, "Size:                  8 kB")]
    [InlineData("Rss:                  44 kB", 123456789, "Rss:            123456789 kB")]
    [InlineData("Rss:            123456789 kB", 4, "Rss:                   4 kB")]
    public void Smaps_counters_are_printed_in_the_kernels_columns(string line, long value, string expected)
    {
        Assert.Equal(expected, SmapsField.Parse(line)!.With(value));
    }

    [Fact]
    public void Every_maps_line_of_this_kernel_prints_back_as_the_kernel_printed_it()
    {
        var lines = File.ReadAllLines("/proc/self/maps");
        Assert.Contains(lines, l => l.EndsWith(" 0 ", StringComparison.Ordinal)); // nameless lines are there too
        foreach (string line in lines) Assert.Equal(line, MapsLine.Parse(line)!.Value.ToString());
    }
}
