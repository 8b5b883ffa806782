using P = Ether.Replay.Tests.Shared.FakePackedProgram;

namespace Ether.Replay.Analyzer.Tests.Export;

/// <summary>The unpack_layers and layer_transitions tables on fake recordings of N-layer packers.</summary>
public sealed class UnpackLayerExportTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void Each_written_layer_is_found_with_its_entry_region_and_writers(int layers, bool reuse)
    {
        using var x = new Exported(p => P.Write(p, layers, reuse));
        var rows = x.Rows("SELECT layer, entry_address, bytes_written, writer_rip_min, writer_rip_max, region_start, region_end, region_name, main_image, " +
                          "image, kernel_bytes, instructions, first_step, last_step FROM unpack_layers WHERE pid = 4000 ORDER BY layer");
        Assert.Equal(Enumerable.Range(0, layers + 1), rows.Select(r => (int)r[0]!));
        Assert.Equal(P.StubAddress, rows[0][1]);
        Assert.Equal(0L, rows[0][2]);
        Assert.Null(rows[0][3]);
        Assert.Equal(P.StubAddress, rows[0][5]);
        Assert.Equal(true, rows[0][8]);
        for (int k = 1; k <= layers; k++)
        {
            var r = rows[k];
            ulong writer = (k == 1 ? P.StubLoop(layers, reuse) : P.LayerAddress(k - 1, reuse)) + 5;
            Assert.Equal(P.LayerAddress(k, reuse), r[1]);
            Assert.Equal((long)P.LayerCode(k, layers).Length, r[2]);
            Assert.Equal(writer, r[3]);
            Assert.Equal(writer, r[4]);
            bool inImage = P.LayerAddress(k, reuse) == P.PayloadAddress;
            Assert.Equal(inImage ? P.PayloadAddress : P.LayerAddress(k, reuse), r[5]);
            Assert.Equal(inImage ? P.PayloadAddress + 0x2000 : P.LayerAddress(k, reuse) + 0x10000, r[6]);
            Assert.Equal(inImage ? P.Target : "", r[7]);
            Assert.Equal(inImage, r[8]);
            Assert.Equal(0, r[9]);
            Assert.Equal(0L, r[10]);
        }
        // Every instruction belongs to the layer whose row counts it, and steps line up.
        Assert.Equal(x.Db.Scalar("SELECT count(*) FROM instructions"), x.Db.Scalar("SELECT sum(instructions)::BIGINT FROM unpack_layers"));
        Assert.Equal(
            x.Rows("SELECT layer, count(*), min(step), max(step) FROM instructions GROUP BY layer ORDER BY layer").Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]}"),
            rows.Select(r => $"{r[0]} {r[11]} {r[12]} {r[13]}"));

        // No entry state or ELF header in these fakes: the deepest layer in the image is the only evidence.
        var oep = x.Rows("SELECT address, evidence, rank, chosen, layer, step, tid, detail FROM oep_candidates WHERE pid = 4000").Single();
        int deepest = Enumerable.Range(1, layers).Last(k => P.LayerAddress(k, reuse) == P.PayloadAddress);
        Assert.Equal([P.PayloadAddress, "deepest-layer", 5, true, deepest], oep.Take(5));
        Assert.Equal(rows[deepest][12], oep[5]);
        Assert.Equal(P.PayloadAddress, x.Db.Scalar("SELECT entry_address FROM unpack_layers WHERE oep"));

        // One transition per layer entry, from the jmp of the layer before.
        var transitions = x.Rows("SELECT from_layer, to_layer, from_rip, to_rip FROM layer_transitions ORDER BY step");
        Assert.Equal(Enumerable.Range(1, layers).Select(k =>
                $"{k - 1} {k} {(k == 1 ? P.StubLoop(layers, reuse) : P.LayerAddress(k - 1, reuse)) + 15:x} {P.LayerAddress(k, reuse):x}"),
            transitions.Select(t => $"{t[0]} {t[1]} {(ulong)t[2]!:x} {(ulong)t[3]!:x}"));

        // Instructions, syscalls and writes carry the layer of the code.
        Assert.Equal($"{layers}", x.Db.Scalar("SELECT string_agg(DISTINCT layer::VARCHAR) FROM syscalls WHERE name IN ('write', 'exit_group')"));
        Assert.Equal(0L, x.Db.Scalar("SELECT count(*) FROM memory_writes w JOIN instructions i USING (step) WHERE w.layer <> i.layer"));

        // Dynamic basic blocks cover every instruction exactly once.
        Assert.Equal(x.Db.Scalar("SELECT count(*) FROM instructions"), x.Db.Scalar("SELECT sum(executions * instructions)::BIGINT FROM basic_blocks"));
        // The stub's loop: the first pass runs in from `mov ecx` (one 5-instruction block), the others
        // start at the xor (4 instructions): dynamic blocks start wherever execution enters.
        var entry = x.Rows($"SELECT executions, instructions, layer FROM basic_blocks WHERE start = {P.StubLoop(layers, reuse)}").Single();
        Assert.Equal("1 5 0", $"{entry[0]} {entry[1]} {entry[2]}");
        var loop = x.Rows($"SELECT executions, instructions, layer FROM basic_blocks WHERE start = {P.StubLoop(layers, reuse) + 5}").Single();
        Assert.Equal($"{P.LayerCode(1, layers).Length - 1} 4 0", $"{loop[0]} {loop[1]} {loop[2]}");
    }

    [Fact]
    public void A_program_that_unpacks_nothing_has_only_layer_0()
    {
        using var x = new Exported(p => P.Write(p, 0));
        Assert.Equal([0], x.Rows("SELECT layer FROM unpack_layers").Select(r => (int)r[0]!));
        Assert.Equal(0L, x.Db.Scalar("SELECT count(*) FROM layer_transitions"));
        Assert.Equal(0, x.Db.Scalar("SELECT layers FROM traces"));
    }

    [Fact]
    public void Code_the_kernel_wrote_counts_as_written()
    {
        // read(2) of code from a file into fresh memory, then a jump there: layer 1, kernel bytes.
        using var x = new Exported(path =>
        {
            using var w = Formats.Log.TraceWriter.Create(path, FakeRecording.Header("/bin/loader"));
            var f = new FakeRecording(w, 7, 7);
            f.Map(0x401000, 0x402000, Formats.Model.RegionProtection.Read | Formats.Model.RegionProtection.Execute, "/bin/loader");
            f.Map(0x500000, 0x510000, Formats.Model.RegionProtection.Read | Formats.Model.RegionProtection.Write | Formats.Model.RegionProtection.Execute);
            f.Run(0x401000, [0x31, 0xc0]);
            byte[] code = [0x90, 0x90, 0xc3];
            f.Syscall(0x401002, 0, "read", [3, 0x500000, 3, 0, 0, 0], ["3", "\"\\220\\220\\303\"", "3"], 3, kernelEffects: () => f.Write(0x500000, code, kernel: true));
            f.Run(0x401004, [0xff, 0xd3], next: 0x500000); // call rbx
            f.Run(0x500000, [0x90]).Run(0x500001, [0x90]).Run(0x500002, [0xc3], next: 0x401006);
            f.Run(0x401006, [0x90]);
            w.Close(Formats.Model.StopReason.Exited);
        });
        var l1 = x.Rows("SELECT entry_address, bytes_written, kernel_bytes, writer_rip_min, instructions FROM unpack_layers WHERE layer = 1").Single();
        Assert.Equal(0x500000UL, l1[0]);
        Assert.Equal(3L, l1[1]);
        Assert.Equal(3L, l1[2]);
        Assert.Equal(0x401002UL, l1[3]); // the syscall instruction
        Assert.Equal(3L, l1[4]);
        Assert.Equal(["0 1", "1 0"], x.Rows("SELECT from_layer, to_layer FROM layer_transitions ORDER BY step").Select(r => $"{r[0]} {r[1]}"));
    }

    [Fact]
    public void Mapping_a_file_over_written_memory_makes_it_loaded_again()
    {
        using var x = new Exported(path =>
        {
            using var w = Formats.Log.TraceWriter.Create(path, FakeRecording.Header("/bin/remap"));
            var f = new FakeRecording(w, 7, 7);
            f.Run(0x401000, [0xc6, 0x00, 0x90], effects: () => f.Write(0x600000, [0x90])); // mov byte [rax], 0x90
            f.Map(0x600000, 0x601000, Formats.Model.RegionProtection.Read | Formats.Model.RegionProtection.Execute, "/lib/x.so");
            f.Run(0x401003, [0xff, 0xe0], next: 0x600000);
            f.Run(0x600000, [0x90]);
            w.Close(Formats.Model.StopReason.Exited);
        });
        Assert.Equal([0], x.Rows("SELECT layer FROM unpack_layers").Select(r => (int)r[0]!));
    }
}
