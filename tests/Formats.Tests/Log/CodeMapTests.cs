using Ether.Replay.Formats.LogInternal;

namespace Ether.Replay.Formats.Tests.Log;

/// <summary>
/// The instruction pass's (pid, rip) → code definition map, against a dictionary: across chunks (cleared between them),
/// reserved up front or not, with instructions redefined in place, and a reservation a hostile chunk inflates.
/// </summary>
public class CodeMapTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 100)]
    [InlineData(3, 5_000)]
    [InlineData(4, 200_000)]
    public void Every_lookup_is_what_a_dictionary_answers(int seed, int reserve)
    {
        var random = new Random(seed);
        var map = new CodeMap();
        for (int chunk = 0; chunk < 6; chunk++)
        {
            map.Clear();
            map.Reserve(reserve * (chunk + 1) / 3);
            var truth = new Dictionary<(int, ulong), (int Offset, int Length, int Definition)>();
            int definitions = random.Next(1, 20_000);
            for (int d = 0; d < definitions; d++)
            {
                int pid = random.Next(3);
                ulong rip = 0x40_0000UL + (ulong)random.Next(30_000) * 4;
                int offset = random.Next(1 << 20), length = random.Next(1, 16);
                int replaced = map.Set(pid, rip, offset, length, d);
                Assert.Equal(truth.TryGetValue((pid, rip), out var old) ? old.Definition : -1, replaced);
                truth[(pid, rip)] = (offset, length, d);
            }
            Assert.Equal(truth.Count, map.Count);
            foreach (var ((pid, rip), want) in truth)
            {
                Assert.True(map.TryGet(pid, rip, out int offset, out int length, out int definition));
                Assert.Equal(want, (offset, length, definition));
            }
            Assert.False(map.TryGet(7, 0x40_0000, out _, out _, out _));
        }
    }

    [Fact]
    public void A_reservation_keeps_what_the_map_holds_and_is_capped()
    {
        var map = new CodeMap();
        map.Set(1, 0x1000, 0, 3, 0);
        map.Reserve(1 << 20); // not empty: nothing moves
        Assert.True(map.TryGet(1, 0x1000, out _, out int length, out _));
        Assert.Equal(3, length);

        map.Clear();
        long before = GC.GetAllocatedBytesForCurrentThread();
        map.Reserve(1 << 26); // a hostile chunk's claim (uncapped: 2^28 entries, 6 GB)
        map.Reserve(int.MaxValue);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20, "a reservation took more than 8 MB");
        Assert.Equal(0, map.Count);
        Assert.Equal(-1, map.Set(1, 0x1000, 0, 3, 0));
    }
}
