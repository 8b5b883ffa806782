namespace Ether.Replay.Formats.Abi;

/// <summary>
/// Linux errno names and messages. Names come from the kernel's asm-generic errno headers, the
/// messages are glibc's strerror() text (what strace prints), both generated into Errno.g.cs.
/// The kernel-internal restart codes a tracer sees are typed once here (see <see cref="ERESTARTSYS"/>).
/// </summary>
public static partial class Errno
{
    /// <summary>Largest errno the kernel returns as -errno (MAX_ERRNO in include/linux/err.h).</summary>
    public const int MaxErrno = 4095;

    // Kernel-internal codes (include/linux/errno.h; not exported to user space, so no header on this
    // machine has them and the generator cannot read them): a call a signal interrupted returns one of
    // these to a tracer's exit stop, and the kernel turns it into a restart or EINTR before the program
    // sees it. Typed here and nowhere else.
    public const int ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;

    /// <summary>The restart codes with strace's explanations, which strace prints after "? NAME".</summary>
    private static readonly (int Errno, string Name, string Message)[] Restarts =
    [
        (ERESTARTSYS, "ERESTARTSYS", "To be restarted if SA_RESTART is set"),
        (ERESTARTNOINTR, "ERESTARTNOINTR", "To be restarted"),
        (ERESTARTNOHAND, "ERESTARTNOHAND", "To be restarted if no handler"),
        (ERESTART_RESTARTBLOCK, "ERESTART_RESTARTBLOCK", "Interrupted by signal"),
    ];

    /// <summary>"ENOENT" for 2, "ERESTARTSYS" for 512; null for a number no header names.</summary>
    public static string? Name(int errno) =>
        errno >= 0 && errno < Table.Length && Table[errno] is { } entry ? entry.Name : Restart(errno)?.Name;

    /// <summary>"No such file or directory" for 2; "Unknown error N" (glibc's wording) otherwise.</summary>
    public static string Message(int errno) =>
        errno >= 0 && errno < Table.Length && Table[errno] is { } entry ? entry.Message
        : Restart(errno)?.Message ?? $"Unknown error {errno}";

    /// <summary>The number of an errno name ("EAGAIN" → 11); aliases such as EWOULDBLOCK are not names here.</summary>
    public static bool TryGetNumber(string name, out int errno)
    {
        for (var i = 0; i < Table.Length; i++)
        {
            if (Table[i] is { } entry && entry.Name == name)
            {
                errno = i;
                return true;
            }
        }
        foreach (var restart in Restarts)
        {
            if (restart.Name == name)
            {
                errno = restart.Errno;
                return true;
            }
        }
        errno = -1;
        return false;
    }

    /// <summary>True when a raw system-call return value is a negated errno (-4095..-1).</summary>
    public static bool IsError(long ret) => ret < 0 && ret >= -MaxErrno;

    /// <summary>True for the kernel-internal restart codes (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK).</summary>
    public static bool IsRestart(int errno) => Restart(errno) is not null;

    /// <summary>True when a call's raw return means "interrupted by a signal" (-EINTR, -ERESTART_RESTARTBLOCK): sleeps then report the time left.</summary>
    public static bool IsInterruptedSleep(long ret) => ret == -EINTR || ret == -ERESTART_RESTARTBLOCK;

    /// <summary>
    /// A failed call's result as strace prints it: "-1 ENOENT (No such file or directory)", or
    /// "? ERESTARTSYS (To be restarted if SA_RESTART is set)" for a call the kernel will restart.
    /// </summary>
    public static string FormatFailure(int errno)
    {
        if (Restart(errno) is { } restart)
            return $"? {restart.Name} ({restart.Message})";
        return Name(errno) is { } name ? $"-1 {name} ({Message(errno)})" : $"-1 (errno {errno})";
    }

    private static (int Errno, string Name, string Message)? Restart(int errno)
    {
        foreach (var restart in Restarts)
            if (restart.Errno == errno)
                return restart;
        return null;
    }
}
