using System.Drawing;

namespace Ether.Replay.Tui.Tests.ViewModels;

public sealed class PaneLayoutTests
{
    [Theory]
    [InlineData(80, 24)]
    [InlineData(120, 40)]
    [InlineData(250, 70)]
    public void Panes_tile_the_screen_above_the_message_line_and_status_bar(int width, int height)
    {
        var layout = new PaneLayout();
        foreach (var bottom in new[] { PaneId.Syscalls, PaneId.Layers, PaneId.Sql })
        {
            layout.Bottom = bottom;
            var p = layout.Place(new Size(width, height));
            var shown = p.Panes.Where(kv => !kv.Value.IsEmpty).ToList();
            Assert.Equal([PaneId.Instructions, PaneId.Registers, PaneId.Memory, bottom], shown.Select(kv => kv.Key).Order());
            Assert.Equal(width * (height - 2), shown.Sum(kv => kv.Value.Width * kv.Value.Height)); // no gap, no overlap
            foreach (var (a, ra) in shown)
                foreach (var (b, rb) in shown)
                    if (a != b) Assert.False(ra.IntersectsWith(rb), $"{a} overlaps {b}");
            Assert.Equal(new Rectangle(0, height - 1, width, 1), p.Status);
            Assert.Equal(new Rectangle(0, height - 2, width, 1), p.Message);
            // Every pane keeps room for a border and a few rows/columns.
            Assert.All(shown, kv => Assert.True(kv.Value.Width >= 24 && kv.Value.Height >= 4, $"{kv.Key} is {kv.Value}"));
        }
    }

    [Fact]
    public void Splits_move_in_steps_within_limits_and_zoom_takes_the_whole_area()
    {
        var layout = new PaneLayout();
        int left = layout.Place(new Size(100, 30)).Panes[PaneId.Instructions].Width;
        layout.Widen(1);
        Assert.Equal(left + 5, layout.Place(new Size(100, 30)).Panes[PaneId.Instructions].Width);
        for (int i = 0; i < 20; i++) layout.Widen(1);
        Assert.Equal(PaneLayout.MaxPercent, layout.LeftPercent);
        for (int i = 0; i < 20; i++) layout.Heighten(-1);
        Assert.Equal(PaneLayout.MinPercent, layout.TopPercent);

        layout.ToggleZoom(PaneId.Memory);
        var zoomed = layout.Place(new Size(80, 24));
        Assert.Equal(new Rectangle(0, 0, 80, 22), zoomed.Panes[PaneId.Memory]);
        Assert.All(zoomed.Panes.Where(kv => kv.Key != PaneId.Memory), kv => Assert.True(kv.Value.IsEmpty));
        layout.ToggleZoom(PaneId.Memory);
        Assert.Null(layout.Zoomed);
    }
}
