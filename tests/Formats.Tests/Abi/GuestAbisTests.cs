using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Formats.Tests.Abi;

public class GuestAbisTests
{
    [Theory]
    [InlineData("winxp-sp2", 32, "nt-winxp-sp2-x86")]
    [InlineData("WinXP-SP3", 32, "nt-winxp-sp3-x86")]
    [InlineData("win7-sp1", 64, "nt-win7-sp1-x64")]
    [InlineData("win10-1809", 32, "nt-win10-1809-x86")]
    [InlineData("win10-22h2", 64, "nt-win10-22h2-x64")]
    [InlineData("linux", 64, "linux-x86_64")]
    [InlineData("linux", 32, "linux-i386")]
    public void Guest_names_map_to_abis_that_have_tables(string guest, int bits, string abi)
    {
        Assert.True(GuestAbis.TryResolve(guest, bits, out var resolved, out var error), error);
        Assert.Equal(abi, resolved);
        Assert.True(SyscallTables.TryFind(resolved, out _));
    }

    [Fact]
    public void Xp_has_no_64_bit_table()
    {
        Assert.False(GuestAbis.TryResolve("winxp-sp2", 64, out _, out var error));
        Assert.Equal("guest 'winxp-sp2' has no 64-bit system-call table (available: 32-bit)", error);
    }

    [Fact]
    public void Unknown_guest_lists_the_known_ones()
    {
        Assert.False(GuestAbis.TryResolve("beos", 32, out _, out var error));
        Assert.StartsWith("unknown guest 'beos' (known: linux, winxp-sp2, winxp-sp3, win7-sp1", error);
    }
}
