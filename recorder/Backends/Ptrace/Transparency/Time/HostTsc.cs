using System.Runtime.InteropServices;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Time;

/// <summary>
/// The host's time-stamp counter, read by the recorder itself: .NET has no rdtsc intrinsic, so a
/// ten-byte function (rdtsc; shl rdx,32; or rax,rdx; ret) is placed in an executable page once.
/// The frequency is measured once against CLOCK_MONOTONIC_RAW over ~20 ms, keeping the tightest
/// of several bracketed samples so that a preemption on a loaded machine does not skew it.
/// The virtual TSC starts from the real counter and runs at this frequency, so a program that
/// divides TSC differences by clock differences finds the host's real TSC frequency.
/// </summary>
internal static unsafe partial class HostTsc
{
    private static readonly delegate* unmanaged<ulong> ReadTsc = Compile();
    private static readonly Lazy<long> Frequency = new(Measure);

    public static ulong Read() => ReadTsc();

    public static long FrequencyHz => Frequency.Value;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint addr, nuint length, int prot);

    private static delegate* unmanaged<ulong> Compile()
    {
        ReadOnlySpan<byte> code = [0x0f, 0x31, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0xc3];
        const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;
        nint page = Mmap(0, 4096, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (page == -1) throw new InvalidOperationException($"mmap for the rdtsc stub failed (errno {Marshal.GetLastPInvokeError()})");
        code.CopyTo(new Span<byte>((void*)page, code.Length));
        if (Mprotect(page, 4096, ProtRead | ProtExec) != 0)
            throw new InvalidOperationException($"mprotect for the rdtsc stub failed (errno {Marshal.GetLastPInvokeError()})");
        return (delegate* unmanaged<ulong>)page;
    }

    private static long Measure()
    {
        // (tsc, ns) pairs where the two clock reads around the rdtsc are close together.
        (ulong Tsc, long Ns) Sample()
        {
            long best = long.MaxValue;
            (ulong, long) pick = default;
            for (int i = 0; i < 20; i++)
            {
                long a = HostClock.Read(ClockIds.MonotonicRaw);
                ulong t = Read();
                long b = HostClock.Read(ClockIds.MonotonicRaw);
                if (b - a < best) { best = b - a; pick = (t, a + (b - a) / 2); }
            }
            return pick;
        }
        var first = Sample();
        Thread.Sleep(20);
        var second = Sample();
        double hz = (second.Tsc - first.Tsc) * 1e9 / (second.Ns - first.Ns);
        return (long)Math.Round(hz / 1000) * 1000; // kHz precision, as the kernel reports tsc_khz
    }
}
