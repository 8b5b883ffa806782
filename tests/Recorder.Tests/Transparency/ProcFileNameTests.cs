using Ether.Replay.Recorder.Backends.Ptrace.Transparency.ProcFiles;

namespace Ether.Replay.Recorder.Tests.Transparency;

public sealed class ProcFileNameTests
{
    [Theory]
    [InlineData("/proc/1234/status", 1234, 0, "status")]
    [InlineData("/proc/1234/task/1240/stat", 1234, 1240, "stat")]
    [InlineData("/proc/uptime", 0, 0, "uptime")]
    [InlineData("/proc/7/maps", 7, 0, "maps")]
    public void Names_the_files_descriptors_point_at(string path, int pid, int tid, string name)
    {
        var f = ProcFileName.Parse(path);
        Assert.NotNull(f);
        Assert.Equal(new ProcFileName(pid, tid, name), f.Value);
        Assert.Equal(path, f.Value.Path);
    }

    [Theory]
    [InlineData("/proc/self/status")]          // never a descriptor's target: the kernel names the pid
    [InlineData("/proc/1234/fd/3")]
    [InlineData("/proc/1234")]
    [InlineData("/proc/1234/task/12/")]
    [InlineData("/proc/0/status")]
    [InlineData("/tmp/proc/1/status")]
    [InlineData("/proc/12345678901/status")]
    [InlineData("socket:[1234]")]
    public void Rejects_everything_else(string path) => Assert.Null(ProcFileName.Parse(path));
}
