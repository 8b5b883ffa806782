using Ether.Replay.Analyzer.Replay;
using Ether.Replay.Formats.Model;

namespace Ether.Replay.Tui.Tests.ViewModels;

/// <summary>Registers and memory at the cursor, and the who-wrote jumps.</summary>
public sealed class StateModelsTests(LoadedWalk walk) : IClassFixture<LoadedWalk>
{
    [Fact]
    public void Registers_after_a_step_mark_what_it_changed()
    {
        var t = walk.Trace;
        var model = new RegistersModel(walk.Session.Replay);
        var add = model.At(t.FirstLoopStep + 1); // add rax, 1
        Assert.Equal((WalkTrace.Pid, WalkTrace.Tid), (add.Pid, add.Tid));
        var rax = add.Values.Single(v => v.Name == "rax");
        Assert.Equal((1UL, true), (rax.Value, rax.Changed));
        Assert.False(add.Values.Single(v => v.Name == "rbx").Changed);
        Assert.Equal(WalkTrace.Loop + 9, add.Values.Single(v => v.Name == "rip").Value);
        Assert.False(add.Values.Single(v => v.Name == "rip").Changed);
        Assert.Equal(["rflags"], model.At(t.FirstLoopStep + 2).Values.Where(v => v.Changed).Select(v => v.Name));
        var expected = walk.Session.Replay.StateAt(t.FirstLoopStep + 1).Current!.Registers;
        Assert.All(add.Values, v => Assert.Equal(expected[Array.IndexOf(Registers.Names, v.Name)], v.Value));
        Assert.Equal("IF ZF PF", RegistersModel.Flags(0x246));
    }

    [Fact]
    public void Memory_follows_a_register_and_who_wrote_walks_the_writes_of_one_byte()
    {
        var t = walk.Trace;
        var cursor = new StepCursor(walk.Session, new InstructionRows(walk.Session.Replay));
        var registers = new RegistersModel(walk.Session.Replay);
        var memory = new MemoryModel(walk.Session) { BytesPerLine = 16, Lines = 4 };
        Assert.Null(memory.SetExpression("rsp-8"));
        long third = t.FirstStoreStep + 2 * WalkTrace.LoopInstructions; // the third store: rax = 2
        cursor.GoTo(third + 1);
        var window = memory.Read(cursor.Step, registers.At(cursor.Step), out var why);
        Assert.Null(why);
        Assert.Equal(t.StoreAddress, window!.Cursor);
        int at = (int)(window.Cursor - window.Origin);
        Assert.Equal(BitConverter.GetBytes(2UL), window.Bytes.Bytes[at..(at + 8)]);
        Assert.All(window.Bytes.Known[at..(at + 8)], Assert.True);
        Assert.Contains("02 00 00 00 00 00 00 00", window.Line(at / 16));

        var last = memory.LastWrite(cursor, window);
        Assert.Equal(third, cursor.Step);
        Assert.StartsWith($"0x{t.StoreAddress:x}: last written at step {third:N0} by 0x401000", last.Message);
        Assert.Equal($"0x{t.StoreAddress:x}", memory.Expression.Text); // pinned to the byte, not rsp any more
        window = memory.Read(cursor.Step, registers.At(cursor.Step), out _);
        memory.LastWrite(cursor, window); // the write at this very step counts: stays
        Assert.Equal(third, cursor.Step);
        cursor.MoveTo(third - 1);
        window = memory.Read(cursor.Step, registers.At(cursor.Step), out _);
        memory.LastWrite(cursor, window);
        Assert.Equal(third - WalkTrace.LoopInstructions, cursor.Step);
        window = memory.Read(cursor.Step, registers.At(cursor.Step), out _);
        memory.NextWrite(cursor, window);
        Assert.Equal(third, cursor.Step);

        Assert.Equal("rsp+: the offset after rsp must be a number (hex with 0x)", memory.SetExpression("rsp+"));
        Assert.StartsWith("nowhere: not an address or register", memory.SetExpression("nowhere"));
    }

    [Fact]
    public void Memory_marks_the_bytes_the_step_read()
    {
        var t = walk.Trace;
        var registers = new RegistersModel(walk.Session.Replay);
        var memory = new MemoryModel(walk.Session) { BytesPerLine = 16, Lines = 4 };
        ulong slot = WalkTrace.Stack + 0x800 - 8; // where the call pushed its return address
        Assert.Null(memory.SetExpression($"0x{slot:x}"));
        long ret = t.LayerReturnStep - 1; // ret: reads the return address
        var window = memory.Read(ret, registers.At(ret), out var why)!;
        Assert.Null(why);
        int at = (int)(slot - window.Origin);
        Assert.Equal(Enumerable.Range(0, window.ReadByStep.Length).Select(i => i >= at && i < at + 8), window.ReadByStep);
        Assert.Equal(BitConverter.GetBytes(WalkTrace.CallRip + 2), window.Bytes.Bytes[at..(at + 8)]);
        // mov eax, 42 before it reads no memory.
        Assert.DoesNotContain(true, memory.Read(ret - 1, registers.At(ret - 1), out _)!.ReadByStep);
    }

    [Fact]
    public void Memory_waits_for_the_index()
    {
        using var session = BrowserSession.Open(walk.Path);
        var memory = new MemoryModel(session);
        Assert.Null(memory.Read(5, new RegistersModel(session.Replay).At(5), out var why));
        Assert.StartsWith("memory needs the index, still being built", why);
    }

    [Theory]
    [InlineData("0x401000", null, 0x401000L)]
    [InlineData("4198400", null, 0x401000L)]
    [InlineData("RSP", 7, 0L)]
    [InlineData("rbp - 0x10", 6, -16L)]
    [InlineData("rsi+8", 4, 8L)]
    public void Address_expressions(string text, int? register, long offset)
    {
        Assert.True(AddressExpression.TryParse(text, out var e, out _));
        Assert.Equal((register, offset), (e!.Register, e.Offset));
    }
}
