namespace Ether.Replay.Recorder.Tests.Ptrace;

[Collection("ptrace")]
public sealed class UnpackingTests
{
    private static readonly byte[] Layer1 = [0xb8, 42, 0, 0, 0, 0xc3];                  // mov $42, %eax; ret
    private static readonly byte[] Layer2 = [0xb8, 7, 0, 0, 0, 0x83, 0xc0, 35, 0xc3];  // mov $7, %eax; add $35, %eax; ret

    [Fact]
    public void Decrypted_code_shows_its_real_bytes_and_an_unpack_snapshot_at_its_first_step()
    {
        string program = TestPrograms.Build("unpack.c", "-O1", "-static");
        var run = Recordings.Record(program, []);
        Assert.Equal(StopReason.Exited, run.Summary.StopReason);
        Assert.Equal(0, run.Of<ProcessExitEvent>().Single().ExitCode); // both layers returned 42

        // The RWX mapping the packer made.
        var entry = run.Of<SyscallEntryEvent>().Single(e => e.Name == "mmap" && e.Args[2] == 7);
        var exit = run.Events.OfType<SyscallExitEvent>().First(e => e.Step == entry.Step && e.Name == "mmap");
        ulong code = (ulong)exit.Return;

        var inLayer = run.Of<InstructionEvent>().Where(i => i.Rip >= code && i.Rip < code + 4096).ToList();
        Assert.Equal([code, code + 5, code, code + 5, code + 8], inLayer.Select(i => i.Rip));
        // The bytes that ran, not the first ones seen at that address.
        Assert.Equal(Layer1[..5], inLayer[0].Bytes);
        Assert.Equal(Layer1[5..], inLayer[1].Bytes);
        Assert.Equal(Layer2[..5], inLayer[2].Bytes);
        Assert.Equal(Layer2[5..8], inLayer[3].Bytes);
        Assert.Equal(Layer2[8..], inLayer[4].Bytes);

        // One unpack snapshot per layer, at the step where the layer first runs, holding the
        // decrypted bytes as they were when that step began.
        var unpacks = run.Of<RegionSnapshotEvent>().Where(s => s.Reason == "unpack").ToList();
        Assert.Equal(2, unpacks.Count);
        AssertSnapshot(unpacks[0], inLayer[0].Step, code, Layer1);
        AssertSnapshot(unpacks[1], inLayer[2].Step, code, Layer2);

        // The writes that built each layer are in the trace, before the layer ran.
        var writes = run.Of<MemoryWriteEvent>().Where(w => w.Address >= code && w.Address < code + 16).ToList();
        Assert.Equal(Layer1.Length + Layer2.Length, writes.Count);
        Assert.True(writes.Take(Layer1.Length).All(w => w.Step < inLayer[0].Step));
        Assert.True(writes.Skip(Layer1.Length).All(w => w.Step > inLayer[1].Step && w.Step < inLayer[2].Step));
    }

    private static void AssertSnapshot(RegionSnapshotEvent snapshot, long step, ulong code, byte[] layer)
    {
        Assert.Equal(step, snapshot.Step);
        Assert.True(snapshot.Address <= code && snapshot.Address + (ulong)snapshot.Bytes.Length >= code + (ulong)layer.Length,
            $"snapshot [{snapshot.Address:x}, +{snapshot.Bytes.Length}) does not cover {code:x}");
        Assert.Equal(layer, snapshot.Bytes.AsSpan((int)(code - snapshot.Address), layer.Length).ToArray());
    }
}
