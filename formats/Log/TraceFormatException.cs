namespace Ether.Replay.Formats.Log;

/// <summary>
/// A trace that cannot be read (further). The message is one line and names the byte offset of the
/// damage, so the command line can print it as is.
/// </summary>
public sealed class TraceFormatException : Exception
{
    public long Offset { get; }

    public TraceFormatException(long offset, string what, Exception? inner = null)
        : base($"{what} (at byte {offset})", inner)
    {
        Offset = offset;
    }
}
