using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Formats.Tests.Abi;

public class LinuxConstantsTests
{
    [Fact]
    public void Scalars_have_the_values_of_the_x86_headers()
    {
        Assert.Equal(-100, LinuxConstants.AT_FDCWD);
        Assert.Equal(0x40, LinuxConstants.O_CREAT);
        Assert.Equal(0x410000, LinuxConstants.O_TMPFILE); // (__O_TMPFILE | O_DIRECTORY): an expression
        Assert.Equal(0x406, LinuxConstants.F_DUPFD_CLOEXEC); // F_LINUX_SPECIFIC_BASE + 6
        Assert.Equal(0xff, LinuxConstants.CSIGNAL);
        Assert.Equal(0x7f, LinuxConstants.FUTEX_CMD_MASK & 0xff); // ~(PRIVATE|CLOCK_REALTIME)
        Assert.Equal(-1, LinuxConstants.RLIM64_INFINITY); // ~0ULL
        Assert.Equal(0x5401, LinuxConstants.TCGETS);
        Assert.Equal(1, LinuxConstants.AF_UNIX);
    }

    [Theory]
    [InlineData("OpenFlags", "O_CLOEXEC", 0x80000)]
    [InlineData("OpenFlags", "O_SYNC", 0x101000)]
    [InlineData("OpenFlags", "O_DIRECTORY", 0x10000)]
    [InlineData("MemoryProtections", "PROT_EXEC", 4)]
    [InlineData("MapFlags", "MAP_ANONYMOUS", 0x20)]
    [InlineData("MapFlags", "MAP_32BIT", 0x40)]
    [InlineData("MapFlags", "MAP_DENYWRITE", 0x800)]
    [InlineData("CloneFlags", "CLONE_VM", 0x100)]
    [InlineData("Clone3Flags", "CLONE_INTO_CGROUP", 0x200000000)]
    [InlineData("SocketTypes", "SOCK_STREAM", 1)] // a glibc enum behind a macro
    [InlineData("SocketTypeFlags", "SOCK_CLOEXEC", 0x80000)]
    [InlineData("AddressFamilies", "AF_INET6", 10)]
    [InlineData("IoctlRequests", "TCGETS2", 0x802C542A)] // _IOR('T', 0x2A, struct termios2)
    [InlineData("ArchPrctlCodes", "ARCH_SET_FS", 0x1002)]
    [InlineData("PtraceRequests", "PTRACE_TRACEME", 0)]
    [InlineData("PrctlOptions", "PR_SET_NAME", 15)]
    public void Sets_hold_the_header_values(string set, string name, long value)
    {
        var constants = Set(set);
        Assert.True(constants.TryGetValue(name, out var actual), $"{name} not in {set}");
        Assert.Equal(value, actual);
    }

    [Fact]
    public void Sets_leave_out_aliases_and_argument_values()
    {
        Assert.False(LinuxConstants.AddressFamilies.TryGetValue("AF_LOCAL", out _));
        Assert.Equal("AF_UNIX", LinuxConstants.AddressFamilies.NameOf(1));
        Assert.False(LinuxConstants.CloneFlags.TryGetValue("CLONE_NEWTIME", out _)); // overlaps the signal byte
        // prctl argument values are "# define" in linux/prctl.h and must not shadow options.
        Assert.False(LinuxConstants.PrctlOptions.TryGetValue("PR_SET_MM_START_CODE", out _));
        Assert.Equal("PR_SET_PDEATHSIG", LinuxConstants.PrctlOptions.NameOf(1));
        Assert.False(LinuxConstants.PtraceRequests.TryGetValue("PTRACE_O_TRACEEXEC", out _));
    }

    [Fact]
    public void Open_flags_follow_straces_order()
    {
        // O_SYNC (which contains O_DSYNC) and O_TMPFILE (which contains O_DIRECTORY) come first.
        var names = LinuxConstants.OpenFlags.Entries.ToArray().Select(e => e.Name).ToList();
        Assert.True(names.IndexOf("O_SYNC") < names.IndexOf("O_DSYNC"));
        Assert.True(names.IndexOf("O_TMPFILE") < names.IndexOf("O_DIRECTORY"));
        Assert.True(names.IndexOf("O_CLOEXEC") < names.IndexOf("O_DIRECTORY"));
    }

    private static ConstantSet Set(string name) =>
        (ConstantSet)typeof(LinuxConstants).GetField(name)!.GetValue(null)!;
}
