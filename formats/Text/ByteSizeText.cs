namespace Ether.Replay.Formats.Text;

/// <summary>The one way sizes are shown to people: "812 B", "3.4 KiB", "12.0 MiB", "1.25 GiB" (binary units).</summary>
public static class ByteSizeText
{
    public static string Format(long bytes) => bytes switch
    {
        < 1L << 10 => $"{bytes} B",
        < 1L << 20 => $"{bytes / 1024.0:F1} KiB",
        < 1L << 30 => $"{bytes / 1048576.0:F1} MiB",
        _ => $"{bytes / 1073741824.0:F2} GiB",
    };
}
