using System.Runtime.InteropServices;
using Ether.Replay.Recorder.Backends.Ptrace.Transparency.Vdso;

namespace Ether.Replay.Recorder.Tests.Transparency;

public sealed class VdsoPatchTests
{
    /// <summary>This test process's own vDSO (the kernel's image, as every process maps it).</summary>
    private static (ulong Start, byte[] Image) OwnVdso()
    {
        var line = File.ReadLines("/proc/self/maps").First(l => l.EndsWith("[vdso]"));
        var range = line.Split(' ')[0].Split('-');
        ulong start = Convert.ToUInt64(range[0], 16), end = Convert.ToUInt64(range[1], 16);
        var image = new byte[end - start];
        Marshal.Copy((nint)start, image, 0, image.Length);
        return (start, image);
    }

    [Fact]
    public void Plans_the_three_time_functions_of_the_real_vdso()
    {
        var (start, image) = OwnVdso();
        var writes = VdsoPatch.Plan(image, start);
        Assert.Equal(["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time"], writes.Select(w => w.Symbol));
        foreach (var w in writes)
        {
            Assert.InRange(w.Address, start, start + (ulong)image.Length - 8);
            Assert.Equal(8, w.Code.Length);
            // The function really starts there: its first bytes are code, not what we would write.
            Assert.NotEqual(w.Code, image.AsSpan((int)(w.Address - start), 8).ToArray());
        }
        Assert.Equal(new byte[] { 0xb8, 228, 0, 0, 0, 0x0f, 0x05, 0xc3 }, writes[0].Code);
        Assert.Equal(new byte[] { 0xb8, 201, 0, 0, 0, 0x0f, 0x05, 0xc3 }, writes[2].Code);
        Assert.Equal(3, writes.Select(w => w.Address).Distinct().Count());
    }

    [Fact]
    public void A_damaged_image_gives_no_writes()
    {
        Assert.Empty(VdsoPatch.Plan(new byte[64], 0x1000));
        var (start, image) = OwnVdso();
        Assert.Empty(VdsoPatch.Plan(image.AsSpan(0, 200).ToArray(), start));
    }
}
