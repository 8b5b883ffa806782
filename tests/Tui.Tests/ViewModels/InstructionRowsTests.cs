namespace Ether.Replay.Tui.Tests.ViewModels;

public sealed class InstructionRowsTests
{
    [Fact]
    public void Rows_show_the_instruction_and_what_happened_at_each_step()
    {
        using var dir = new TempDir();
        string path = dir.File("walk.etrace");
        var walk = WalkTrace.Write(path);
        using var session = BrowserSession.Open(path);
        var rows = new InstructionRows(session.Replay);
        Assert.Equal(walk.LastStep, rows.Count);

        var store = rows.Get(walk.FirstStoreStep);
        Assert.Equal((walk.FirstStoreStep, WalkTrace.Tid, "0x401000", "48 89 44 24 f8", "mov [rsp-8], rax"),
            (store.Step, store.Tid, store.Address, store.Bytes, store.Disassembly));
        Assert.Equal("", store.Marks);

        var write = rows.Get(walk.WriteSyscallStep);
        Assert.Equal("syscall", write.Disassembly);
        Assert.Equal("[syscall write(1, \"hello\", 5) = 5]", write.Marks);
        Assert.Equal("[syscall openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)]", rows.Get(walk.OpenSyscallStep).Marks);
        Assert.Equal("mov eax, 0x2a", rows.Get(walk.LayerEntryStep).Disassembly);
    }

    [Fact]
    public void Every_row_comes_from_its_own_step_whatever_order_the_pages_are_read_in()
    {
        using var dir = new TempDir();
        string path = dir.File("walk.etrace");
        var walk = WalkTrace.Write(path);
        using var session = BrowserSession.Open(path);
        var rows = new InstructionRows(session.Replay);
        var forward = Enumerable.Range(1, (int)walk.LastStep).Select(s => rows.Get(s)).ToList();
        var fresh = new InstructionRows(session.Replay);
        var rng = new Random(2);
        foreach (int s in Enumerable.Range(1, (int)walk.LastStep).OrderBy(_ => rng.Next()))
            Assert.Equal(forward[s - 1], fresh.Get(s));
        Assert.All(forward, (line, i) => Assert.Equal(i + 1L, line.Step));
    }

    [Fact]
    public void Layer_changes_are_marked_once_known()
    {
        using var dir = new TempDir();
        string path = dir.File("walk.etrace");
        var walk = WalkTrace.Write(path);
        using var session = BrowserSession.Open(path);
        var rows = new InstructionRows(session.Replay);
        Assert.Equal("", rows.Get(walk.LayerEntryStep).Marks);
        rows.LayerChanges = new LayerChanges([new LayerChange(walk.LayerEntryStep, WalkTrace.Pid, WalkTrace.Tid, 0, 1)]);
        Assert.Equal("[layer 0 -> 1]", rows.Get(walk.LayerEntryStep).Marks);
    }
}
