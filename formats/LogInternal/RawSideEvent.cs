using Ether.Replay.Formats.Model;

namespace Ether.Replay.Formats.LogInternal;

/// <summary>
/// A side event of any kind number with already-encoded MessagePack fields. Only tests use it, to
/// play a newer writer whose kinds this reader does not know (they must be skipped and counted).
/// </summary>
internal sealed class RawSideEvent(byte kind, int fieldCount, byte[] encodedFields) : TraceEvent
{
    public override EventKind Kind => (EventKind)kind;
    public int FieldCount => fieldCount;
    public byte[] EncodedFields => encodedFields;
}
