using System.Runtime.InteropServices;
using Ether.Replay.Formats.Memory;

namespace Ether.Replay.Recorder.Tests.Recording;

/// <summary>/proc/PID/maps text into a <see cref="MemoryMap"/>.</summary>
public class ProcMapsParserTests
{
    private const RegionProtection R = RegionProtection.Read, W = RegionProtection.Write,
        X = RegionProtection.Execute, S = RegionProtection.Shared;

    internal const string Sample = """
        55ed1f5ac000-55ed1f5ae000 r--p 00000000 fe:00 247270                     /usr/bin/cat
        55ed1f5ae000-55ed1f5b3000 r-xp 00002000 fe:00 247270                     /usr/bin/cat
        55ed2205e000-55ed2207f000 rw-p 00000000 00:00 0                          [heap]
        7f23b3b44000-7f23b3b66000 rw-p 00000000 00:00 0 
        7f23b3dac000-7f23b3db3000 r--s 00000000 fe:00 331548                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
        7f23b3e00000-7f23b3e01000 rwxp 00001000 00:01 4242                       /memfd:stage two (deleted)
        7ffd4d2b4000-7ffd4d2d5000 rw-p 00000000 00:00 0                          [stack]
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        """;

    private static Region Reg(ulong start, ulong end, RegionProtection p, string name = "", ulong offset = 0) =>
        new(start, end, p, offset, name);

    [Fact]
    public void Parses_every_field_of_a_maps_file()
    {
        var map = ProcMapsParser.Parse(Sample);
        Assert.Equal(8, map.Regions.Count);
        // Device fe:00 as stat's st_dev (glibc makedev: major << 8 | minor for small numbers), and the inode.
        Assert.Equal(Reg(0x55ed1f5ae000, 0x55ed1f5b3000, R | X, "/usr/bin/cat", 0x2000) with { Device = 0xfe00, Inode = 247270 }, map.Regions[1]);
        Assert.Equal(Reg(0x55ed2205e000, 0x55ed2207f000, R | W, "[heap]"), map.Regions[2]);
        Assert.Equal(Reg(0x7f23b3b44000, 0x7f23b3b66000, R | W, ""), map.Regions[3]);
        Assert.Equal(R | S, map.Regions[4].Protection);
        Assert.Equal("/memfd:stage two (deleted)", map.Regions[5].Name);
        Assert.Equal(Reg(0xffffffffff600000, 0xffffffffff601000, X, "[vsyscall]"), map.Regions[7]);
    }

    [Fact]
    public void Parses_this_process_maps_and_finds_libc_code()
    {
        var map = ProcMapsParser.Parse(File.ReadAllText("/proc/self/maps"));
        Assert.NotEmpty(map.Executable);
        var libc = NativeLibrary.Load("libc.so.6");
        ulong getpid = (ulong)NativeLibrary.GetExport(libc, "getpid");
        var region = map.Find(getpid);
        Assert.NotNull(region);
        Assert.Contains("libc", region.Value.Name);
        Assert.True((region.Value.Protection & X) != 0);
        Assert.Contains(region.Value, map.Executable);
    }

    [Theory]
    [InlineData("zz-1000 r--p 00000000 00:00 0", "address range")]
    [InlineData("2000-1000 r--p 00000000 00:00 0", "address range")]
    [InlineData("1000-2000 r-- 00000000 00:00 0", "permissions")]
    [InlineData("1000-2000 rwxq 00000000 00:00 0", "permissions")]
    [InlineData("1000-2000 r--p 0000g000 00:00 0", "offset")]
    [InlineData("1000-2000 r--p 00000000 0000 0", "device")]
    [InlineData("1000-2000 r--p 00000000 00:00", "inode")]
    public void A_malformed_line_names_itself(string line, string what)
    {
        var e = Assert.Throws<FormatException>(() => ProcMapsParser.Parse("1000-2000 r--p 00000000 00:00 0\n\n" + line.Replace("1000-2000", "3000-4000").Replace("2000-1000", "4000-3000")));
        Assert.Contains("line 3", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Overlapping_lines_are_rejected()
    {
        var e = Assert.Throws<FormatException>(() =>
            ProcMapsParser.Parse("1000-3000 r--p 00000000 00:00 0\n2000-4000 r--p 00000000 00:00 0\n"));
        Assert.Contains("overlap", e.Message);
    }

    // --- lookup ---

    [Fact]
    public void Find_returns_the_containing_region_or_null()
    {
        var map = ProcMapsParser.Parse(Sample);
        Assert.Equal("[heap]", map.Find(0x55ed2205e000)!.Value.Name);
        Assert.Equal("[heap]", map.Find(0x55ed2207efff)!.Value.Name);
        Assert.Null(map.Find(0x55ed2207f000));
        Assert.Null(map.Find(0x1000));
        Assert.Equal("[vsyscall]", map.Find(0xffffffffff600800)!.Value.Name);
        Assert.Equal(["/usr/bin/cat", "/memfd:stage two (deleted)", "[vsyscall]"], map.Executable.Select(r => r.Name));
    }
}
