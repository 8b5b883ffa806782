using System.Runtime.InteropServices;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>
/// A descriptor the recorder's process opened without close-on-exec after it started (as the .NET runtime does for an
/// instant at each thread start and GC) never reaches the sample: leaked_fds stays CLEAN under ether record, natively too.
/// In the suite's collection, so it runs after the suite's own runs, not during them.
/// </summary>
[Collection("transparency suite")]
public sealed partial class ForeignDescriptorTests(SuiteResults results)
{
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int Fcntl(int fd, int cmd, int arg);

    [Theory]
    [InlineData("full")]
    [InlineData("syscalls")]
    public void A_descriptor_opened_without_close_on_exec_after_start_is_not_inherited(string mode)
    {
        GivenDescriptors.Capture();
        var program = SuiteBuild.Programs.Single(p => p.Name == "leaked_fds");
        int fd = Open("/proc/meminfo", 0 /* O_RDONLY, no O_CLOEXEC: what the runtime's GC opens */);
        Assert.True(fd > 2, "open /proc/meminfo failed");
        try
        {
            Assert.Equal(0, Fcntl(fd, 1 /* F_GETFD */, 0) & 1); // really inheritable: a plain spawn would pass it on
            var recorded = RecordedRunner.Run(program, mode, results.TraceDirectory).Run;
            Assert.True(recorded.Clean, recorded.ToString());
            var native = NativeRunner.Run(program);
            Assert.True(native.Clean, native.ToString());
        }
        finally
        {
            Close(fd);
        }
    }
}
