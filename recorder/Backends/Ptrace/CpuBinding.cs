using Ether.Replay.Recorder.Backends.Ptrace.Native;

namespace Ether.Replay.Recorder.Backends.Ptrace;

/// <summary>
/// Binds the tracer thread and the target to one CPU in full mode, as rr does. Single-stepping
/// is a ping-pong (trap → wake the tracer → resume → trap) in which neither side runs while the
/// other does; on one CPU each hand-over is a plain context switch, across two it is a cross-CPU
/// wake-up, which on these nested-virtualisation VMs costs a large part of a step. Full mode runs
/// one target thread at a time anyway, so nothing is lost. Measured with bench/record (C loop:
/// ~49 k steps/s bound vs ~32-48 k unbound on a loaded machine).
/// </summary>
internal static unsafe class CpuBinding
{
    /// <summary>The CPU the calling thread runs on now, and binds the calling thread to it; null if that fails.</summary>
    public static int? BindCurrentThread()
    {
        int cpu = LibC.SchedGetCpu();
        if (cpu < 0) return null;
        return Bind(0, cpu) ? cpu : null;
    }

    /// <summary>Binds <paramref name="tid"/> (0: the calling thread) to <paramref name="cpu"/>. Children inherit the binding.</summary>
    public static bool Bind(int tid, int cpu)
    {
        const int Words = 16; // 1024 CPUs
        if (cpu < 0 || cpu >= Words * 64) return false;
        ulong* mask = stackalloc ulong[Words];
        for (int i = 0; i < Words; i++) mask[i] = 0;
        mask[cpu / 64] = 1UL << (cpu % 64);
        return LibC.SchedSetAffinity(tid, Words * sizeof(ulong), mask) == 0;
    }

    /// <summary>The CPU affinity mask of <paramref name="tid"/> (as many 64-bit words as the kernel writes), empty if it cannot be read.</summary>
    public static ulong[] Get(int tid)
    {
        const int Words = 16;
        ulong* mask = stackalloc ulong[Words];
        int bytes = LibC.SchedGetAffinity(tid, Words * sizeof(ulong), mask);
        if (bytes <= 0) return [];
        var result = new ulong[bytes / sizeof(ulong)];
        for (int i = 0; i < result.Length; i++) result[i] = mask[i];
        return result;
    }
}
