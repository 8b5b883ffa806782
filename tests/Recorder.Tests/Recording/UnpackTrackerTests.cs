using CsCheck;

namespace Ether.Replay.Recorder.Tests.Recording;

public class UnpackTrackerTests
{
    private const ulong Page = 0x7f00_0000_0000;

    [Fact]
    public void A_written_page_fires_once_when_executed()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(Page + 0x100, 0x40);
        Assert.True(tracker.OnExecute(Page + 0x100, 3));
        Assert.False(tracker.OnExecute(Page + 0x100, 3));
        Assert.False(tracker.OnExecute(Page + 0x103, 2));
    }

    [Fact]
    public void Executing_again_without_writes_never_fires()
    {
        var tracker = new UnpackTracker();
        for (int i = 0; i < 10; i++) Assert.False(tracker.OnExecute(Page + (ulong)i * 4, 4));
    }

    [Fact]
    public void Rewritten_then_executed_fires_again()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(Page, 4096);
        Assert.True(tracker.OnExecute(Page + 0x10, 2));
        tracker.OnWrite(Page + 0x10, 1);
        Assert.True(tracker.OnExecute(Page + 0x10, 2));
        Assert.False(tracker.OnExecute(Page + 0x10, 2));
    }

    [Fact]
    public void Writes_to_other_pages_do_not_fire()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(Page + 0x1000, 0x1000);
        tracker.OnWrite(Page - 8, 8);
        Assert.False(tracker.OnExecute(Page, 15));
        Assert.False(tracker.OnExecute(Page + 0xff0, 15)); // ends at 0xffe: still this page
        Assert.True(tracker.OnExecute(Page + 0x1000, 1));
    }

    [Fact]
    public void Data_written_beside_running_code_does_not_fire_until_it_runs()
    {
        var tracker = new UnpackTracker();
        // A decrypt loop at +0x00 writes its output at +0x800 of the same page, pass after pass.
        for (int pass = 0; pass < 100; pass++)
        {
            Assert.False(tracker.OnExecute(Page + 0x00, 4));
            tracker.OnWrite(Page + 0x800 + (ulong)pass, 1);
            Assert.False(tracker.OnExecute(Page + 0x04, 3));
        }
        Assert.True(tracker.OnExecute(Page + 0x800, 5)); // then jumps into what it wrote: one moment
        Assert.False(tracker.OnExecute(Page + 0x805, 5));
    }

    [Fact]
    public void Firing_cleans_the_whole_page()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(Page + 0x100, 0x10);
        tracker.OnWrite(Page + 0xE00, 0x10);
        Assert.True(tracker.OnExecute(Page + 0x100, 1));
        Assert.False(tracker.OnExecute(Page + 0xE00, 1)); // same page, same unpack moment
        Assert.Equal(0, tracker.WrittenPages);
    }

    [Fact]
    public void Page_granularity_fires_on_any_write_to_the_page()
    {
        var tracker = new UnpackTracker(granuleShift: 12);
        tracker.OnWrite(Page + 0xF00, 1);
        Assert.True(tracker.OnExecute(Page + 0x10, 1));
        Assert.False(tracker.OnExecute(Page + 0xF00, 1));
    }

    [Fact]
    public void An_instruction_whose_tail_lies_in_a_written_page_fires()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(Page + 0x1000, 2);
        Assert.True(tracker.OnExecute(Page + 0xFFD, 5)); // bytes 0xFFD..0x1001
        Assert.False(tracker.OnExecute(Page + 0x1000, 1));
    }

    [Fact]
    public void A_one_megabyte_read_marks_256_pages_and_each_fires_once()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(Page + 0x10, 1 << 20); // a kernel write (read() into a buffer), not page-aligned
        Assert.Equal(257, tracker.WrittenPages);
        Assert.True(tracker.OnExecute(Page + 0x8_0000, 4));
        Assert.False(tracker.OnExecute(Page + 0x8_0010, 4));
        Assert.Equal(256, tracker.WrittenPages);
        Assert.False(tracker.OnExecute(Page + 0x10_0040, 1)); // the line after the write's last one
        Assert.True(tracker.OnExecute(Page + 0x10_000F, 1));   // its last byte
    }

    [Fact]
    public void Unmapping_forgets_written_memory_and_frees_it()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(Page, 64 << 12);
        tracker.OnWrite(Page + 0x4000_0000, 1);
        tracker.Forget(Page, 64 << 12);
        Assert.Equal(1, tracker.WrittenPages);
        Assert.False(tracker.OnExecute(Page + 0x2000, 1));
        tracker.Forget(0, long.MaxValue); // everything; skips empty chunks, so it is quick
        Assert.Equal(0, tracker.WrittenPages);
        Assert.False(tracker.OnExecute(Page + 0x4000_0000, 1));
    }

    [Fact]
    public void Writes_at_the_top_of_the_address_space_do_not_wrap_around()
    {
        var tracker = new UnpackTracker();
        tracker.OnWrite(ulong.MaxValue - 7, 16);
        Assert.True(tracker.OnExecute(ulong.MaxValue - 3, 1));
        Assert.False(tracker.OnExecute(0, 1));
    }

    [Fact]
    public void Fork_inherits_then_parts_ways_and_clear_forgets()
    {
        var parent = new UnpackTracker();
        parent.OnWrite(Page, 16);
        var child = parent.Fork();
        Assert.True(child.OnExecute(Page, 1));
        Assert.True(parent.OnExecute(Page, 1)); // the child's execution is its own

        parent.OnWrite(Page, 16);
        parent.Clear();
        Assert.False(parent.OnExecute(Page, 1));
    }

    /// <summary>
    /// Model check against a naive set of written 64-byte lines per page, with the same rule:
    /// an instruction fires on each page where its bytes overlap a written line, cleaning that page.
    /// </summary>
    [Fact]
    public void Agrees_with_a_naive_model()
    {
        var op = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 4 * 4096 - 1], Gen.Int[1, 9000]);
        op.Array[1, 300].Sample(ops =>
        {
            var tracker = new UnpackTracker();
            var model = new HashSet<ulong>(); // written line numbers (address >> 6)
            foreach (var (kind, offset, size) in ops)
            {
                ulong address = Page + (ulong)offset;
                switch (kind)
                {
                    case 0:
                    case 1:
                        tracker.OnWrite(address, size);
                        for (ulong line = address >> 6; line <= (address + (ulong)size - 1) >> 6; line++) model.Add(line);
                        break;
                    case 2:
                        tracker.Forget(address, size);
                        for (ulong line = address >> 6; line <= (address + (ulong)size - 1) >> 6; line++) model.Remove(line);
                        break;
                    default:
                        int length = 1 + size % 15;
                        ulong last = address + (ulong)length - 1;
                        bool expected = false;
                        for (ulong page = address >> 12; page <= last >> 12; page++)
                        {
                            ulong from = Math.Max(address, page << 12), to = Math.Min(last, (page << 12) | 0xFFF);
                            bool hit = false;
                            for (ulong line = from >> 6; line <= to >> 6; line++) hit |= model.Contains(line);
                            if (!hit) continue;
                            expected = true;
                            model.RemoveWhere(line => line >> 6 == page);
                        }
                        Assert.Equal(expected, tracker.OnExecute(address, length));
                        break;
                }
                Assert.Equal(model.Select(line => line >> 6).Distinct().Count(), tracker.WrittenPages);
            }
        }, iter: 300, threads: 1);
    }
}
