using System.Runtime.InteropServices;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>The recorder's own clock_gettime / clock_getres (the real clocks the virtual ones start from).</summary>
internal static unsafe partial class HostClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Sec, Nsec; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, Timespec* ts);

    [LibraryImport("libc", EntryPoint = "clock_getres")]
    private static partial int ClockGetres(int clock, Timespec* ts);

    /// <summary>Nanoseconds on <paramref name="clock"/>, or 0 if the kernel does not know it.</summary>
    public static long Read(int clock)
    {
        Timespec t;
        return ClockGettime(clock, &t) == 0 ? t.Sec * 1_000_000_000L + t.Nsec : 0;
    }

    public static long Resolution(int clock)
    {
        Timespec t;
        return ClockGetres(clock, &t) == 0 ? t.Sec * 1_000_000_000L + t.Nsec : 0;
    }
}
