using System.Runtime.InteropServices;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>
/// The test process may have inherited descriptors from whatever started it (a shell, a CI runner);
/// the native runs and the recorder would pass them on alike, and leaked_fds would report them for
/// both. They are the runner's, not the recorder's: marked close-on-exec before the suite runs, so
/// that leaked_fds sees only descriptors the recorder itself leaks (it opens its own close-on-exec).
/// </summary>
internal static partial class InheritedDescriptors
{
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int cmd, int arg);

    public static void CloseOnExec()
    {
        const int FGetfd = 1, FSetfd = 2, FdCloexec = 1;
        foreach (var entry in Directory.GetFiles("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int fd) || fd <= 2) continue;
            int flags = Fcntl(fd, FGetfd, 0);
            if (flags >= 0 && (flags & FdCloexec) == 0) Fcntl(fd, FSetfd, flags | FdCloexec);
        }
    }
}
