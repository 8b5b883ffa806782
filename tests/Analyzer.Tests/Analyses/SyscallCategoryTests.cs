using Ether.Replay.Tests.Shared;
using Ether.Replay.Analyzer.Query;
using Ether.Replay.Analyzer.Tests.Support;
using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Analyzer.Tests.Analyses;

/// <summary>
/// syscall_categories.sql: the Linux view and the NT macro used by `ether summary`. The NT macro is
/// checked on calls an analyst of a Windows sample looks for first, on every name of every NT table
/// the recorder knows (all get a category; the Linux names get none from it, so it never overrides
/// the view), and on names that only look like another kind.
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
}
