namespace Ether.Replay.Recorder.Syscalls;

/// <summary>
/// Read access to the traced process's memory: the one memory interface of the recorder, used by
/// the system-call decoder, the kernel write sets and the code cache (a backend implements it once,
/// e.g. the ptrace backend's <c>ProcessMemory</c>). The target is hostile: any address may be
/// unmapped, so callers must expect short reads.
/// </summary>
public interface ITargetMemory
{
    /// <summary>
    /// Copies target memory starting at <paramref name="address"/> into <paramref name="into"/>;
    /// returns the number of bytes actually read (stops at the first unreadable byte, 0 when the
    /// first byte is unreadable).
    /// </summary>
    int Read(ulong address, Span<byte> into);
}
