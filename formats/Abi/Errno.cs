namespace Ether.Replay.Formats.Abi;

/// <summary>
/// Linux errno names and messages. Names come from the kernel's asm-generic errno headers, the
/// messages are glibc's strerror() text (what strace prints), both generated into Errno.g.cs.
/// </summary>
public static partial class Errno
{
    /// <summary>Largest errno the kernel returns as -errno (MAX_ERRNO in include/linux/err.h).</summary>
    public const int MaxErrno = 4095;

    /// <summary>"ENOENT" for 2; null for a number the headers do not name.</summary>
    public static string? Name(int errno) =>
        errno >= 0 && errno < Table.Length && Table[errno] is { } entry ? entry.Name : null;

    /// <summary>"No such file or directory" for 2; "Unknown error N" (glibc's wording) otherwise.</summary>
    public static string Message(int errno) =>
        errno >= 0 && errno < Table.Length && Table[errno] is { } entry ? entry.Message : $"Unknown error {errno}";

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
        errno = -1;
        return false;
    }

    /// <summary>True when a raw system-call return value is a negated errno (-4095..-1).</summary>
    public static bool IsError(long ret) => ret < 0 && ret >= -MaxErrno;
}
