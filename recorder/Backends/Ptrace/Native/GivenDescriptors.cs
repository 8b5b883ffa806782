namespace Ether.Replay.Recorder.Backends.Ptrace.Native;

/// <summary>
/// The descriptors above 2 this process was given open without close-on-exec: what a program the recorder starts
/// inherits, as it would from the shell that started the recorder (docs/transparency.md, "Descriptors"). Read once, as
/// early as the host asks (<see cref="Capture"/>: ether's Main). Every other descriptor is closed in the child
/// (<see cref="PosixSpawn"/>): the .NET runtime opens files without close-on-exec for an instant
/// (/sys/devices/system/cpu/possible at each thread start, /proc/meminfo for the GC), and a spawn at that instant
/// handed one to the sample, which a check for foreign descriptors sees.
/// </summary>
public static class GivenDescriptors
{
    private static readonly Lazy<int[]> Given = new(Read);

    /// <summary>Reads the given descriptors now (later calls keep this answer).</summary>
    public static void Capture() => _ = Given.Value;

    internal static IReadOnlyList<int> Fds => Given.Value;

    private static int[] Read()
    {
        try
        {
            return Open().Where(d => !d.CloseOnExec).Select(d => d.Fd).Order().ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>This process's open descriptors above 2, as /proc/self/fd lists them now.</summary>
    internal static IEnumerable<(int Fd, bool CloseOnExec)> Open()
    {
        foreach (var entry in Directory.EnumerateFiles("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int fd) || fd <= 2) continue;
            int flags = LibC.Fcntl(fd, LibC.F_GETFD, 0);
            if (flags >= 0) yield return (fd, (flags & LibC.FD_CLOEXEC) != 0);
        }
    }
}
