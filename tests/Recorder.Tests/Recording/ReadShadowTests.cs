namespace Ether.Replay.Recorder.Tests.Recording;

/// <summary>The recorder's copy of what the trace holds of a process's memory (read check).</summary>
public class ReadShadowTests
{
    private const ulong Page = 0x7000_0000;

    private static byte[] Bytes(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(i + seed)).ToArray();

    [Fact]
    public void A_snapshot_makes_its_whole_pages_known_and_not_the_partial_ones()
    {
        var shadow = new ReadShadow();
        shadow.Observe(Page + 0x800, Bytes(0x2000, 1)); // half a page, one whole page, half a page
        Assert.Null(shadow.Find((Page >> 12)));
        Assert.Equal(Bytes(0x2000, 1).AsSpan(0x800, 4096).ToArray(), shadow.Find((Page >> 12) + 1));
        Assert.Null(shadow.Find((Page >> 12) + 2));
        Assert.Equal(1, shadow.Count);
    }

    [Fact]
    public void Writes_change_known_pages_and_a_page_with_bytes_the_trace_did_not_keep_is_dropped()
    {
        var shadow = new ReadShadow();
        shadow.Observe(Page, Bytes(0x2000, 0));
        shadow.Write(Page + 0xffe, [9, 9, 9, 9], 4); // across the two pages
        Assert.Equal([9, 9], shadow.Find(Page >> 12)![0xffe..]);
        Assert.Equal([9, 9], shadow.Find((Page >> 12) + 1)![..2]);
        // A truncated write (8 bytes long, 2 kept): the second page holds bytes the trace lacks.
        shadow.Write(Page + 0xffe, [7, 7], 8);
        Assert.Equal([7, 7], shadow.Find(Page >> 12)![0xffe..]);
        Assert.Null(shadow.Find((Page >> 12) + 1));
        // Writes to pages the trace does not hold change nothing.
        shadow.Write(Page + 0x5000, [1], 1);
        Assert.Equal(1, shadow.Count);
    }

    [Fact]
    public void Maps_forget_the_range_and_exec_everything()
    {
        var shadow = new ReadShadow();
        shadow.Observe(Page, Bytes(0x4000, 0));
        shadow.Forget(Page + 0x1000, Page + 0x3000);
        Assert.NotNull(shadow.Find(Page >> 12));
        Assert.Null(shadow.Find((Page >> 12) + 1));
        Assert.Null(shadow.Find((Page >> 12) + 2));
        Assert.NotNull(shadow.Find((Page >> 12) + 3));
        shadow.Forget(0, ulong.MaxValue); // a huge range walks the pages held, not the range
        Assert.Equal(0, shadow.Count);
        shadow.Observe(Page, Bytes(0x1000, 0));
        shadow.Clear();
        Assert.Equal(0, shadow.Count);
    }

    [Fact]
    public void A_forked_copy_shares_pages_until_either_side_changes_one()
    {
        var parent = new ReadShadow();
        parent.Observe(Page, Bytes(0x2000, 0));
        var child = parent.Copy();
        Assert.Same(parent.Find(Page >> 12), child.Find(Page >> 12));
        child.Write(Page + 4, [0xaa], 1);
        parent.Write(Page + 0x1004, [0xbb], 1);
        Assert.Equal(4, parent.Find(Page >> 12)![4]);
        Assert.Equal(0xaa, child.Find(Page >> 12)![4]);
        Assert.Equal(0xbb, parent.Find((Page >> 12) + 1)![4]);
        Assert.Equal(4, child.Find((Page >> 12) + 1)![4]);
        child.Forget(Page, Page + 0x2000);
        Assert.Equal(2, parent.Count);
    }

    [Fact]
    public void Past_its_bound_it_drops_a_page()
    {
        var shadow = new ReadShadow(maxPages: 3);
        shadow.Observe(Page, Bytes(0x5000, 0));
        Assert.Equal(3, shadow.Count);
        Assert.Equal(2, shadow.Dropped);
    }
}
