using System.Runtime.Intrinsics.X86;

namespace Ether.Replay.Recorder.Instructions;

/// <summary>
/// Sizes of implicit memory operands that depend on the CPU, read once with CPUID. The traced
/// process runs on this same CPU under this same kernel, so what we read is what it gets.
/// </summary>
public static class HostCpu
{
    /// <summary>
    /// Bytes an XSAVE-family instruction may write: the standard-format XSAVE area for the state
    /// components enabled in XCR0 (CPUID leaf 0xD, sub-leaf 0, EBX). XSAVE/XSAVEOPT write at most
    /// this much; XSAVEC/XSAVES write the compacted format, which is never larger for user-enabled
    /// components (and XSAVES faults in user mode anyway), so one bound serves all four. Recording
    /// the whole area is conservative: components an instruction skips keep their old bytes.
    /// </summary>
    public static int XsaveAreaSize { get; } = QueryXsaveAreaSize();

    /// <summary>
    /// The cache line CLZERO clears: CPUID leaf 1 EBX[15:8] (the CLFLUSH line size, in 8-byte units).
    /// </summary>
    public static int CacheLineSize { get; } = QueryCacheLineSize();

    /// <summary>Reads and writes of one thread's steps, sized for this CPU.</summary>
    public static Formats.Instructions.MemoryOperands NewOperands() => new(XsaveAreaSize, CacheLineSize);

    private static int QueryXsaveAreaSize()
    {
        if (!X86Base.IsSupported || MaxLeaf() < 0xD) return Formats.Instructions.MemoryOperands.MinimumXsaveArea;
        var (_, ebx, _, _) = X86Base.CpuId(0xD, 0);
        return Math.Max(ebx, Formats.Instructions.MemoryOperands.MinimumXsaveArea);
    }

    private static int QueryCacheLineSize()
    {
        if (!X86Base.IsSupported) return 64;
        var (_, ebx, _, _) = X86Base.CpuId(1, 0);
        int size = ((ebx >> 8) & 0xFF) * 8;
        return size is 32 or 64 or 128 ? size : 64;
    }

    private static int MaxLeaf() => X86Base.CpuId(0, 0).Eax;
}
