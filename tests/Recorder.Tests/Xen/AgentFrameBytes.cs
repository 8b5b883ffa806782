using System.Buffers.Binary;
using MessagePack;

namespace Ether.Replay.Recorder.Tests.Xen;

/// <summary>Hand-made agent frames for tests: a 4-byte big-endian length and one MessagePack map
/// (docs/xen-agent-protocol.md §2), the map's body written by the caller.</summary>
internal static class AgentFrameBytes
{
    public delegate void Body(ref MessagePackWriter w);

    public static byte[] Frame(Body body, int keys)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteMapHeader(keys);
        body(ref w);
        w.Flush();
        var framed = new byte[4 + buffer.WrittenCount];
        BinaryPrimitives.WriteUInt32BigEndian(framed, (uint)buffer.WrittenCount);
        buffer.WrittenSpan.CopyTo(framed.AsSpan(4));
        return framed;
    }
}
