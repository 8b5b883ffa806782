namespace Ether.Replay.Recorder.Backends.Xen;

/// <summary>
/// The guest memory a Linux system call's arguments pointed at, as the agent read it while the
/// guest waited at the call (the frame's arg_memory): enough for the strace-style decoder to show
/// paths and buffers. Anything else reads as unreadable, so the decoder prints the pointer.
/// </summary>
internal sealed class ArgMemoryView(AgentFrame frame) : ITargetMemory
{
    public int Read(ulong address, Span<byte> into)
    {
        for (int i = 0; i < frame.ArgMemoryCount && i < frame.ArgCount; i++)
        {
            ulong start = frame.Args[i];
            int length = frame.ArgMemoryLength[i];
            if (length == 0 || address < start || address - start >= (ulong)length) continue;
            int offset = (int)(address - start);
            int n = Math.Min(into.Length, length - offset);
            frame.ArgMemory[i].AsSpan(offset, n).CopyTo(into);
            return n;
        }
        return 0;
    }
}
