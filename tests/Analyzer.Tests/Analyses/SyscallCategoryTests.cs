using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Analyzer.Tests.Analyses;

/// <summary>
/// The categories `ether summary` groups calls by: Linux calls from the system-call table through
/// the syscall_category(name, abi) function, NT calls from syscall_categories.sql's macro. The NT macro is
/// checked on calls an analyst of a Windows sample looks for first, on every name of every NT table
/// the recorder knows (all get a category; the Linux names get none from it, so it never overrides
/// the table), and on names that only look like another kind.
/// </summary>
public sealed class SyscallCategoryTests : IDisposable
{
    private readonly Exported _x = new(p => AllKindsTrace.Write(p));

    public SyscallCategoryTests() => _x.Db.Execute(ShippedSql.Load("syscall_categories.sql"));

    public void Dispose() => _x.Dispose();

    private string? Category(string name) => (string?)_x.Db.Scalar($"SELECT nt_syscall_category('{name}')");

    [Theory]
    [InlineData("NtOpenKeyEx", "registry")]
    [InlineData("NtSetValueKey", "registry")]
    [InlineData("NtQueryMultipleValueKey", "registry")]
    [InlineData("NtNotifyChangeMultipleKeys", "registry")]
    [InlineData("NtCreateKeyedEvent", "ipc")] // "Key" in the name, an event all the same
    [InlineData("NtOpenProcessTokenEx", "process")]
    [InlineData("NtCreateFile", "file")]
    [InlineData("NtQueryAttributesFile", "file")]
    [InlineData("NtCancelIoFileEx", "file")]
    [InlineData("NtDeviceIoControlFile", "device")]
    [InlineData("NtAllocateVirtualMemory", "memory")]
    [InlineData("NtWriteVirtualMemory", "memory")]
    [InlineData("NtMapViewOfSection", "memory")]
    [InlineData("NtCreateSection", "memory")]
    [InlineData("NtCreateUserProcess", "process")]
    [InlineData("NtSetInformationThread", "process")]
    [InlineData("NtWaitForSingleObject", "ipc")]
    [InlineData("NtWaitForAlertByThreadId", "ipc")]
    [InlineData("NtAlpcSendWaitReceivePort", "ipc")]
    [InlineData("NtQueueApcThread", "signal")]
    [InlineData("NtContinue", "signal")]
    [InlineData("NtClose", "descriptor")]
    [InlineData("NtDelayExecution", "time")]
    [InlineData("NtQuerySystemInformation", "system")]
    [InlineData("NtLoadDriver", "system")]
    public void Nt_calls_fall_in_the_kind_an_analyst_expects(string name, string category) =>
        Assert.Equal(category, Category(name));

    [Fact]
    public void Every_known_nt_call_has_a_category_and_linux_calls_get_none_from_the_nt_macro()
    {
        var nt = SyscallTables.AbiNames.Where(a => a.StartsWith("nt-", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(nt);
        var names = nt.SelectMany(a => SyscallTables.Find(a).Entries().Select(e => e.Name)).Distinct().ToList();
        Assert.True(names.Count > 400, $"only {names.Count} NT names");
        var other = names.Where(n => Category(n) is not { } c || c == "other").ToList();
        Assert.All(names, n => Assert.NotNull(Category(n)));
        // Most calls have a kind; what is left is rare plumbing (worker factories, ETW, power, ...).
        Assert.True(other.Count <= names.Count / 50, $"{other.Count} of {names.Count} NT calls are 'other': {string.Join(", ", other.Take(40))}");

        foreach (var linux in SyscallTables.Find(SyscallTables.LinuxX86_64Abi).Entries())
            Assert.Null(Category(linux.Name));
    }

    [Theory]
    [InlineData("openat", "linux-x86_64", "file")]
    [InlineData("read", "linux-x86_64", "descriptor")]
    [InlineData("mmap", "linux-x86_64", "memory")]
    [InlineData("alarm", "linux-x86_64", "signal")] // strace's %signal, as the old view had it
    [InlineData("restart_syscall", "linux-x86_64", "other")]
    [InlineData("stat64", "linux-i386", "file")] // i386-only variants share their call's category
    [InlineData("mmap", "linux-i386", "memory")]
    [InlineData("socketcall", "linux-i386", "network")]
    public void Linux_calls_get_the_tables_category(string name, string abi, string category) =>
        Assert.Equal(category, _x.Db.Scalar($"SELECT syscall_category('{name}', '{abi}')"));

    [Theory]
    [InlineData("stat64", "linux-x86_64")] // no such call on x86-64
    [InlineData("no_such_call", "linux-x86_64")]
    [InlineData("NtClose", "nt-winxp-sp2-x86")]
    [InlineData("read", "nt-winxp-sp2-x86")]
    public void Other_abis_and_unknown_names_get_no_category_from_the_table(string name, string abi) =>
        Assert.Null(_x.Db.Scalar($"SELECT syscall_category('{name}', '{abi}')"));
}
