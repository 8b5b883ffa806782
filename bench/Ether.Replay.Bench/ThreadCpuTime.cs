using System.Runtime.InteropServices;

namespace Ether.Replay.Bench;

/// <summary>CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID). Single-threaded work such as a decode
/// pass is timed with it rather than the wall clock: on the shared 2-core machine the wall clock also counts the
/// time other engineers' builds held the core, which swung v2/v1 ratios by ±30 % between passes.</summary>
internal static partial class ThreadCpuTime
{
    private const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double Seconds()
    {
        if (ClockGetTime(ClockThreadCpuTime, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds + t.Nanoseconds / 1e9;
    }
}
