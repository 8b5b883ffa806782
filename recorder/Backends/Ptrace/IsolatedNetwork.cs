using System.Runtime.InteropServices;
using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// The sample's own network namespace with only loopback up, made by the recorder itself instead
/// of by `unshare --net` and `ip link set lo up` in the prologue (three execs and a fork, ~6 ms of
/// a recording's fixed cost). Namespaces belong to a task, not to a process: the calling thread
/// enters a new namespace (<c>unshare(CLONE_NEWNET)</c>), brings <c>lo</c> up (<c>SIOCSIFFLAGS</c>
/// on a socket made inside it), spawns the prologue shell — posix_spawn clones from the calling
/// thread, so the child is born in the new namespace — and goes back to the namespace it came from
/// (<c>setns</c>). Nothing else in the recorder runs on that thread meanwhile, and the namespace
/// lives as long as a process of the recording is in it: every recording gets a fresh one.
/// Needs CAP_SYS_ADMIN (root), as `unshare --net` did.
/// </summary>
internal sealed unsafe class IsolatedNetwork
{
    private int _home;

    private IsolatedNetwork(int home) => _home = home;

    /// <summary>Moves the calling thread into a new network namespace with loopback up; <see cref="Leave"/> moves it back.
    /// Throws <see cref="InvalidOperationException"/> with a one-line reason.</summary>
    public static IsolatedNetwork Enter()
    {
        int home = OpenOwnNamespace();
        if (LibC.Unshare(LibC.CLONE_NEWNET) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            LibC.Close(home);
            throw new InvalidOperationException($"network isolation failed: unshare(CLONE_NEWNET): {Errno.Message(errno)}"
                + (errno == Errno.EPERM ? " (needs root: CAP_SYS_ADMIN)" : "") + "; or pass --allow-network");
        }
        var entered = new IsolatedNetwork(home);
        if (BringLoopbackUp() is { } failure)
        {
            entered.Leave();
            throw new InvalidOperationException($"network isolation failed: cannot bring loopback up in the new namespace: {failure}; or pass --allow-network");
        }
        return entered;
    }

    /// <summary>Back to the thread's own namespace; null, or why that failed (the thread is then still in the sample's namespace).</summary>
    public string? Leave()
    {
        if (_home < 0) return null;
        string? failure = LibC.SetNs(_home, LibC.CLONE_NEWNET) == 0 ? null
            : $"cannot return the recorder's thread to its network namespace: setns: {Errno.Message(Marshal.GetLastPInvokeError())}";
        LibC.Close(_home);
        _home = -1;
        return failure;
    }

    private static int OpenOwnNamespace()
    {
        // The thread's own namespace (thread-self), not the process's: they may differ.
        ReadOnlySpan<byte> path = "/proc/thread-self/ns/net\0"u8;
        fixed (byte* p = path)
        {
            int fd = LibC.Open(p, LibC.O_RDONLY | LibC.O_CLOEXEC);
            if (fd < 0)
                throw new InvalidOperationException($"network isolation failed: /proc/thread-self/ns/net: {Errno.Message(Marshal.GetLastPInvokeError())}; or pass --allow-network");
            return fd;
        }
    }

    /// <summary>What `ip link set lo up` does, through the older ioctl interface (no netlink needed): IFF_UP on "lo". Null, or why not.</summary>
    private static string? BringLoopbackUp()
    {
        int socket = LibC.Socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (socket < 0) return $"socket: {Errno.Message(Marshal.GetLastPInvokeError())}";
        try
        {
            // struct ifreq: char ifr_name[16], then a union whose first member is short ifr_flags (40 bytes in all).
            byte* ifreq = stackalloc byte[40];
            new Span<byte>(ifreq, 40).Clear();
            "lo"u8.CopyTo(new Span<byte>(ifreq, 16));
            if (LibC.Ioctl(socket, LibC.SIOCGIFFLAGS, ifreq) != 0) return $"SIOCGIFFLAGS lo: {Errno.Message(Marshal.GetLastPInvokeError())}";
            *(short*)(ifreq + 16) |= LibC.IFF_UP;
            if (LibC.Ioctl(socket, LibC.SIOCSIFFLAGS, ifreq) != 0) return $"SIOCSIFFLAGS lo: {Errno.Message(Marshal.GetLastPInvokeError())}";
            return null;
        }
        finally
        {
            LibC.Close(socket);
        }
    }
}
