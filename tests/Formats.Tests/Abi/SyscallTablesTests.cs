using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Formats.Tests.Abi;

public class SyscallTablesTests
{
    public static TheoryData<string> AllAbis() => new(SyscallTables.AbiNames);

    [Theory]
    [InlineData("linux-x86_64", 0, "read")]
    [InlineData("linux-x86_64", 1, "write")]
    [InlineData("linux-x86_64", 9, "mmap")]
    [InlineData("linux-x86_64", 59, "execve")]
    [InlineData("linux-x86_64", 60, "exit")]
    [InlineData("linux-x86_64", 158, "arch_prctl")]
    [InlineData("linux-x86_64", 231, "exit_group")]
    [InlineData("linux-x86_64", 257, "openat")]
    [InlineData("linux-x86_64", 334, "rseq")]
    [InlineData("linux-x86_64", 435, "clone3")]
    [InlineData("linux-i386", 1, "exit")]
    [InlineData("linux-i386", 3, "read")]
    [InlineData("linux-i386", 11, "execve")]
    [InlineData("linux-i386", 102, "socketcall")]
    [InlineData("linux-i386", 192, "mmap2")]
    [InlineData("linux-i386", 252, "exit_group")]
    [InlineData("nt-winxp-sp2-x86", 0x25, "NtCreateFile")]
    [InlineData("nt-winxp-sp2-x86", 0x74, "NtOpenFile")]
    [InlineData("nt-winxp-sp2-x86", 0x101, "NtTerminateProcess")]
    [InlineData("nt-winxp-sp3-x86", 0x74, "NtOpenFile")]
    [InlineData("nt-win7-sp1-x64", 0x52, "NtCreateFile")]
    [InlineData("nt-win10-22h2-x64", 0x55, "NtCreateFile")]
    [InlineData("nt-win10-22h2-x64", 0x2c, "NtTerminateProcess")]
    public void Known_numbers_have_their_documented_names(string abi, long number, string name)
    {
        var table = SyscallTables.Find(abi);
        Assert.Equal(name, table.Name(number));
        Assert.True(table.TryGetNumber(name, out var back));
        Assert.Equal(number, back);
    }

    [Theory]
    [MemberData(nameof(AllAbis))]
    public void Every_name_round_trips_to_its_number(string abi)
    {
        var table = SyscallTables.Find(abi);
        Assert.Equal(abi, table.Abi);
        var count = 0;
        foreach (var (number, name) in table.Entries())
        {
            Assert.Equal(name, table.Name(number));
            Assert.True(table.TryGetNumber(name, out var back), name);
            Assert.Equal(number, back);
            count++;
        }
        Assert.Equal(table.Count, count);
        Assert.True(count > 250, $"{abi} has only {count} calls");
    }

    [Theory]
    [MemberData(nameof(AllAbis))]
    public void Unknown_numbers_get_a_fallback_name_that_maps_back(string abi)
    {
        var table = SyscallTables.Find(abi);
        foreach (var number in new[] { table.MaxNumber + 1, 1023L, 0x7fffffffL, -1L })
        {
            if (table.TryGetName(number, out _))
                continue;
            var name = table.Name(number);
            Assert.Equal("syscall_" + number, name);
            if (number >= 0)
            {
                Assert.True(table.TryGetNumber(name, out var back));
                Assert.Equal(number, back);
            }
        }
        // A fallback name never hides a real name: syscall_0 is not a name when 0 is known.
        Assert.True(table.TryGetName(0, out _));
        Assert.False(table.TryGetNumber("syscall_0", out _));
        Assert.False(table.TryGetNumber("no_such_call", out _));
        Assert.False(table.TryGetNumber("syscall_", out _));
        Assert.False(table.TryGetNumber("syscall_+1", out _));
    }

    [Fact]
    public void Linux_x86_64_has_the_gap_between_334_and_424()
    {
        var table = SyscallTables.Find("linux-x86_64");
        Assert.Equal("syscall_400", table.Name(400));
        Assert.Equal("pidfd_send_signal", table.Name(424));
    }

    [Fact]
    public void Every_brief_abi_is_present()
    {
        string[] expected =
        [
            "linux-x86_64", "linux-i386", "nt-winxp-sp2-x86", "nt-winxp-sp3-x86", "nt-win7-sp1-x86",
            "nt-win7-sp1-x64", "nt-win10-1809-x86", "nt-win10-1809-x64", "nt-win10-22h2-x86",
            "nt-win10-22h2-x64",
        ];
        Assert.Equal(expected, SyscallTables.AbiNames.ToArray());
    }

    [Fact]
    public void Unknown_abi_is_a_clear_error()
    {
        var error = Assert.Throws<ArgumentException>(() => SyscallTables.Find("nt-vista"));
        Assert.Contains("unknown system-call ABI 'nt-vista'", error.Message);
        Assert.False(SyscallTables.TryFind("nt-vista", out _));
    }

    [Fact]
    public void Names_by_abi_fall_back_to_the_number_for_unknown_calls_and_abis()
    {
        Assert.Equal("openat", SyscallTables.Name(SyscallTables.LinuxX86_64Abi, 257));
        Assert.Equal("syscall_100000", SyscallTables.Name(SyscallTables.LinuxX86_64Abi, 100_000));
        Assert.Equal("syscall_7", SyscallTables.Name("linux-riscv64", 7)); // a trace from an ABI this build does not know
    }
}
