using System.Buffers.Binary;
using System.Net;
using static Ether.Replay.Recorder.Syscalls.DecoderInternal.StraceText;

namespace Ether.Replay.Recorder.Syscalls.DecoderInternal;

/// <summary>Socket addresses as strace prints them: {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("8.8.8.8")}.</summary>
internal static class SockaddrRenderer
{
    public static string Render(in TargetReader reader, ulong address, long length)
    {
        if (address == 0)
            return "NULL";
        if (length < 2)
            return Addr(address);
        var size = (int)Math.Min(length, LinuxLayout.SockaddrMax);
        if (reader.ReadStruct(address, size) is not { } b)
            return Addr(address);
        var family = BinaryPrimitives.ReadUInt16LittleEndian(b);
        var familyName = Xval(LinuxConstants.AddressFamilies, family, "AF_???");
        var head = "{sa_family=" + familyName;
        if (family == LinuxConstants.AF_UNIX)
        {
            if (size == 2)
                return head + "}";
            var path = b.AsSpan(2, size - 2);
            return path.Length > 0 && path[0] == 0
                ? head + ", sun_path=@" + Quote(Trim(path[1..])) + "}"
                : head + ", sun_path=" + StringRenderer.CharArray(path) + "}";
        }
        if (family == LinuxConstants.AF_INET && size >= 8)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(2));
            var ip = new IPAddress(b.AsSpan(4, 4));
            return $"{head}, sin_port=htons({port}), sin_addr=inet_addr(\"{ip}\")}}";
        }
        if (family == LinuxConstants.AF_INET6 && size >= 24)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(2));
            var flow = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4));
            var ip = new IPAddress(b.AsSpan(8, 16));
            var scope = size >= 28 ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)) : 0;
            return $"{head}, sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), "
                   + $"inet_pton(AF_INET6, \"{ip}\", &sin6_addr), sin6_scope_id={scope}}}";
        }
        return head + ", sa_data=" + Quote(b.AsSpan(2, size - 2)) + "}";
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> abstractName)
    {
        // An abstract name is length-delimited; strace drops trailing NULs of the buffer.
        var end = abstractName.Length;
        while (end > 0 && abstractName[end - 1] == 0)
            end--;
        return abstractName[..end];
    }
}
