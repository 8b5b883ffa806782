using CsCheck;
using Iced.Intel;

namespace Ether.Replay.Recorder.Tests.Recording;

public class CodeCacheTests
{
    private static readonly byte[] MovRaxRcx = [0x48, 0x89, 0xc8];
    private static readonly byte[] MovRaxImm64 = [0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8];
    private static readonly byte[] Ret = [0xc3];

    private static (FakeCodeMemory Memory, CodeCache Cache) Setup(ulong address = 0x400000, int pages = 4)
    {
        var memory = new FakeCodeMemory();
        memory.Map(address, pages);
        return (memory, new CodeCache(memory));
    }

    [Fact]
    public void Miss_reads_and_decodes_then_hit_does_not_read()
    {
        var (memory, cache) = Setup();
        memory.Write(0x400100, MovRaxRcx);

        ref readonly var first = ref cache.Get(0x400100, 64);
        Assert.True(first.IsValid);
        Assert.Equal(Code.Mov_rm64_r64, first.Instruction.Code);
        Assert.Equal(0x400100UL, first.Rip);
        Assert.Equal(MovRaxRcx, first.Bytes.ToArray());
        Assert.Equal(1, memory.Reads);

        ref readonly var again = ref cache.Get(0x400100, 64);
        Assert.Equal(Code.Mov_rm64_r64, again.Instruction.Code);
        Assert.Equal(1, memory.Reads);
        Assert.Equal((1L, 1L), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void Rip_relative_operands_are_resolved_against_the_real_address()
    {
        var (memory, cache) = Setup();
        memory.Write(0x400200, [0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00]); // mov rax, [rip+0x10]
        Assert.Equal(0x400207UL + 0x10, cache.Get(0x400200, 64).Instruction.MemoryDisplacement64);
    }

    [Fact]
    public void A_write_over_the_instruction_shows_the_new_bytes()
    {
        var (memory, cache) = Setup();
        memory.Write(0x400100, MovRaxRcx);
        cache.Get(0x400100, 64);

        memory.Write(0x400101, [0x90, 0x90]); // self-modifying: mov → 48 90 90 (xchg rax,rax with REX.W)
        cache.Invalidate(0x400101, 2);

        ref readonly var entry = ref cache.Get(0x400100, 64);
        Assert.Equal(new byte[] { 0x48, 0x90 }, entry.Bytes.ToArray());
        Assert.Equal(2, memory.Reads);
        Assert.Equal(1, cache.Invalidated);
    }

    [Fact]
    public void A_write_beside_the_instruction_in_the_same_page_keeps_it()
    {
        var (memory, cache) = Setup();
        memory.Write(0x400100, MovRaxRcx);
        cache.Get(0x400100, 64);

        cache.Invalidate(0x400103, 8);   // right after it
        cache.Invalidate(0x4000f8, 8);   // right before it
        cache.Invalidate(0x401000, 4096); // another page

        cache.Get(0x400100, 64);
        Assert.Equal(1, memory.Reads);
        Assert.Equal(0, cache.Invalidated);
    }

    [Fact]
    public void An_instruction_spanning_two_pages_is_dropped_by_a_write_to_either()
    {
        var (memory, cache) = Setup();
        const ulong rip = 0x400ffc; // 10 bytes: 4 in the first page, 6 in the second
        memory.Write(rip, MovRaxImm64);
        Assert.Equal(10, cache.Get(rip, 64).Length);

        cache.Invalidate(0x401005, 1); // the last immediate byte, in the second page
        memory.Write(rip, MovRaxImm64);
        Assert.Equal(10, cache.Get(rip, 64).Length);
        Assert.Equal(2, memory.Reads);

        cache.Invalidate(0x400ffc, 1); // the first byte, in the first page
        cache.Get(rip, 64);
        Assert.Equal(3, memory.Reads);

        cache.Invalidate(0x401006, 100); // after it in the second page: kept
        cache.Get(rip, 64);
        Assert.Equal(3, memory.Reads);
    }

    [Fact]
    public void Spanning_instruction_shows_new_bytes_written_in_the_second_page()
    {
        var (memory, cache) = Setup();
        const ulong rip = 0x400ffc;
        memory.Write(rip, MovRaxImm64);
        cache.Get(rip, 64);
        memory.Write(0x401005, [0xEE]);
        cache.Invalidate(0x401005, 1);
        Assert.Equal(0xEE, cache.Get(rip, 64).Bytes[9]);
    }

    [Fact]
    public void A_large_write_drops_every_entry_inside_it_and_no_other()
    {
        var (memory, cache) = Setup(0x400000, 512);
        for (ulong page = 0; page < 512; page++) memory.Write(0x400000 + page * 4096, Ret);
        for (ulong page = 0; page < 512; page++) cache.Get(0x400000 + page * 4096, 64);
        Assert.Equal(512, cache.Count);

        cache.Invalidate(0x410000, 1 << 20); // pages 16..271: a 1 MiB read() buffer
        Assert.Equal(512 - 256, cache.Count);

        cache.Invalidate(0, long.MaxValue); // everything (munmap of the world)
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Bitness_change_at_the_same_rip_decodes_again()
    {
        var (memory, cache) = Setup();
        memory.Write(0x400100, MovRaxRcx);
        Assert.Equal(Code.Mov_rm64_r64, cache.Get(0x400100, 64).Instruction.Code);
        ref readonly var compat = ref cache.Get(0x400100, 32);
        Assert.Equal(Mnemonic.Dec, compat.Instruction.Mnemonic); // 0x48 is dec eax outside 64-bit mode
        Assert.Equal(1, compat.Length);
        Assert.Equal(1, cache.Count);
        cache.Invalidate(0x400100, 1);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Unreadable_or_truncated_code_is_invalid_and_not_cached()
    {
        var (memory, cache) = Setup(0x400000, 1);
        Assert.False(cache.Get(0x500000, 64).IsValid);
        Assert.Equal(0, cache.Get(0x500000, 64).Length);

        memory.Write(0x400ffe, [0x48, 0xb8]); // mov rax, imm64 cut off by the end of the mapping
        Assert.False(cache.Get(0x400ffe, 64).IsValid);
        Assert.Equal(0, cache.Count);

        memory.Map(0x401000, 1); // the next page appears: now it decodes
        Assert.True(cache.Get(0x400ffe, 64).IsValid);
    }

    [Fact]
    public void Fork_copies_then_the_two_caches_part_ways()
    {
        var (memory, parent) = Setup();
        memory.Write(0x400100, MovRaxRcx);
        parent.Get(0x400100, 64);

        var childMemory = new FakeCodeMemory();
        childMemory.Map(0x400000, 4);
        childMemory.Write(0x400100, Ret);
        var child = parent.Fork(childMemory);

        Assert.Equal(Code.Mov_rm64_r64, child.Get(0x400100, 64).Instruction.Code); // copied, not read
        Assert.Equal(0, childMemory.Reads);

        child.Invalidate(0x400100, 1);
        Assert.Equal(Code.Retnq, child.Get(0x400100, 64).Instruction.Code); // child reads its own memory
        Assert.Equal(Code.Mov_rm64_r64, parent.Get(0x400100, 64).Instruction.Code); // parent unaffected
        Assert.Equal(1, memory.Reads);
    }

    [Fact]
    public void Clear_forgets_everything()
    {
        var (memory, cache) = Setup();
        memory.Write(0x400100, Ret);
        cache.Get(0x400100, 64);
        cache.Clear();
        Assert.Equal(0, cache.Count);
        cache.Get(0x400100, 64);
        Assert.Equal(2, memory.Reads);
    }

    [Fact]
    public void The_size_bound_holds()
    {
        var memory = new FakeCodeMemory();
        memory.Map(0x400000, 1);
        var cache = new CodeCache(memory, maxEntries: 100);
        for (ulong i = 0; i < 1000; i++)
        {
            cache.Get(0x400000 + i, 64); // zero bytes: add [rax], al (2 bytes)
            Assert.True(cache.Count <= 100);
        }
    }

    /// <summary>
    /// Model check: after any sequence of writes (each reported to the cache), every lookup returns
    /// exactly what a fresh read and decode of the current memory gives.
    /// </summary>
    [Fact]
    public void Lookups_always_match_a_fresh_decode()
    {
        const ulong Base = 0x10000;
        const int Span = 3 * 4096;
        // op: (isWrite, offset, bytes) — writes cluster near page boundaries to exercise spanning.
        var offsets = Gen.Frequency((3, Gen.Int[0, Span - 1]), (2, Gen.Int[4096 - 16, 4096 + 16]), (2, Gen.Int[8192 - 16, 8192 + 16]));
        var op = Gen.Select(Gen.Bool, offsets, Gen.Byte.Array[1, 24]);
        var gen = Gen.Select(Gen.Byte.Array[Span], op.Array[1, 200]);

        gen.Sample((initial, ops) =>
        {
            var memory = new FakeCodeMemory();
            memory.Map(Base, 3);
            memory.Write(Base, initial);
            var cache = new CodeCache(memory);
            var fresh = new byte[15];
            foreach (var (isWrite, offset, bytes) in ops)
            {
                ulong address = Base + (ulong)offset;
                if (isWrite)
                {
                    int n = Math.Min(bytes.Length, Span - offset);
                    memory.Write(address, bytes.AsSpan(0, n));
                    cache.Invalidate(address, n);
                    continue;
                }
                ref readonly var entry = ref cache.Get(address, 64);
                int read = memory.Read(address, fresh);
                var decoder = Decoder.Create(64, new ByteArrayCodeReader(fresh, 0, read));
                decoder.IP = address;
                var expected = decoder.Decode();
                Assert.Equal(expected.IsInvalid, !entry.IsValid);
                if (expected.IsInvalid) continue;
                Assert.True(Instruction.EqualsAllBits(expected, entry.Instruction), $"{expected} vs {entry.Instruction} at {address:x}");
                Assert.Equal(fresh.AsSpan(0, expected.Length).ToArray(), entry.Bytes.ToArray());
            }
        }, iter: 300, threads: 1);
    }
}

public class CodeEntryTests
{
    [Fact]
    public void Entries_know_whether_their_instruction_may_write_memory()
    {
        var memory = new FakeCodeMemory();
        memory.Map(0x400000, 1);
        memory.Write(0x400000, [0x48, 0x89, 0xc8, 0x48, 0x89, 0x08, 0x50, 0x48, 0x8b, 0x08]); // mov rax,rcx; mov [rax],rcx; push rax; mov rcx,[rax]
        var cache = new CodeCache(memory);
        Assert.False(cache.Get(0x400000, 64).MayWriteMemory);
        Assert.True(cache.Get(0x400003, 64).MayWriteMemory);
        Assert.True(cache.Get(0x400006, 64).MayWriteMemory);
        Assert.False(cache.Get(0x400007, 64).MayWriteMemory);
    }
}
