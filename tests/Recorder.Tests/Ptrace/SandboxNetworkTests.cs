using Ether.Replay.Recorder.Backends.Ptrace.Modes;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>
/// The sample's network (docs/transparency.md, "What stays visible"): every recording gets a
/// namespace of its own — not the host's, not another recording's, even while both run — in which
/// loopback is the only interface and is up (a TCP connection over 127.0.0.1 works), and
/// --allow-network leaves it in the host's. Programs/netns_probe.c reports what it sees.
/// </summary>
[Collection("ptrace")]
public sealed class SandboxNetworkTests
{
    private static string Probe => TestPrograms.Build("netns_probe.c", "-O2");

    private static string HostNamespace => new FileInfo("/proc/self/ns/net").LinkTarget is { } target
        ? target["net:[".Length..^1]
        : throw new InvalidOperationException("/proc/self/ns/net is not a link");

    [Fact]
    public async Task Two_recordings_running_at_once_each_get_a_fresh_namespace_with_only_loopback_up()
    {
        string dir = Directory.CreateTempSubdirectory("ether-test-netns-").FullName;
        try
        {
            string[] ready = [Path.Combine(dir, "a.ready"), Path.Combine(dir, "b.ready")];
            string[] fifos = [Path.Combine(dir, "a.fifo"), Path.Combine(dir, "b.fifo")];
            foreach (var fifo in fifos) Assert.Equal(0, TestMkfifo(fifo));
            var runs = Enumerable.Range(0, 2)
                .Select(i => Task.Run(() => Recordings.Record(Probe, [ready[i], fifos[i]], RecordingModes.Syscalls)))
                .ToArray();

            // Both probes are alive (blocked on their fifo) once both ready files hold their namespaces.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!ready.All(r => File.Exists(r) && File.ReadAllText(r).EndsWith('\n')))
            {
                Assert.True(DateTime.UtcNow < deadline && !runs.Any(r => r.IsCompleted), "the probes did not both start");
                await Task.Delay(20);
            }
            var namespaces = ready.Select(r => File.ReadAllText(r).Trim()).ToArray();
            foreach (var fifo in fifos) File.WriteAllText(fifo, "x");
            var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromMinutes(2));

            Assert.NotEqual(namespaces[0], namespaces[1]);
            foreach (var (run, ns) in results.Zip(namespaces))
            {
                Assert.True(run.Result.RootExitCode == 0, $"{run.Result.StopReason} {run.Result.StopDetail}\n{run.Stdout}");
                Assert.Equal($"namespace {ns}\ninterface lo up\nloopback tcp works\n", run.Stdout);
                Assert.NotEqual(HostNamespace, ns);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void With_network_allowed_the_sample_is_in_the_hosts_namespace()
    {
        var run = Recordings.Record(Probe, [], RecordingModes.Syscalls, isolateNetwork: false);
        Assert.True(run.Result.RootExitCode == 0, run.Stdout);
        Assert.StartsWith($"namespace {HostNamespace}\n", run.Stdout);
        Assert.Contains("interface lo up\n", run.Stdout);
    }

    private static int TestMkfifo(string path)
    {
        using var p = System.Diagnostics.Process.Start("mkfifo", [path]);
        p.WaitForExit();
        return p.ExitCode;
    }
}
