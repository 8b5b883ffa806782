using ELFSharp.ELF;
using ELFSharp.ELF.Sections;
using ELFSharp.ELF.Segments;

namespace Ether.Replay.Recorder.Backends.Ptrace.Transparency.Vdso;

/// <summary>
/// Redirects the vDSO's time functions into real system calls, as rr does, so that every time a
/// program reads the clock through libc the recorder sees a clock_gettime / gettimeofday / time
/// system call and answers it from the virtual clock. Natively these functions compute the time in
/// user space from the kernel's vvar page (which the kernel advances in real time) and the TSC, so
/// they cannot be made to show virtual time in place. Each function's first 8 bytes become
/// <c>mov eax, NR; syscall; ret</c> — same arguments, same return convention (-errno), and rcx/r11
/// are caller-saved in the C ABI the functions follow.
/// The patch is visible to a program that compares its vDSO's code with another process's (listed
/// in docs/transparency.md); the trace records the redirected instructions as executed.
/// </summary>
internal static class VdsoPatch
{
    /// <summary>The functions redirected, by symbol, with the x86-64 system call each becomes.</summary>
    public static readonly IReadOnlyList<(string Symbol, int Syscall)> Functions =
    [
        ("__vdso_clock_gettime", 228),
        ("__vdso_gettimeofday", 96),
        ("__vdso_time", 201),
    ];

    /// <summary>One write to make: the code at <see cref="Address"/> becomes <see cref="Code"/>.</summary>
    public readonly record struct Write(string Symbol, ulong Address, byte[] Code);

    /// <summary>
    /// The writes that redirect the functions of the vDSO image <paramref name="image"/> (the whole
    /// [vdso] mapping, an ELF shared object) mapped at <paramref name="baseAddress"/>. Functions the
    /// image lacks or that are shorter than the stub are left alone; an unreadable image gives none.
    /// </summary>
    public static List<Write> Plan(byte[] image, ulong baseAddress)
    {
        var writes = new List<Write>();
        IELF elf;
        try
        {
            elf = ELFReader.Load(new MemoryStream(image, writable: false), shouldOwnStream: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException or NotImplementedException or IndexOutOfRangeException)
        {
            return writes;
        }
        using (elf)
        {
            if (elf is not ELF<ulong> elf64) return writes;
            ulong load = elf64.Segments.Where(s => s.Type == SegmentType.Load).Select(s => s.Address - (ulong)s.Offset).DefaultIfEmpty(0UL).First();
            var symbols = elf64.Sections.OfType<ISymbolTable>()
                .SelectMany(t => t.Entries.OfType<SymbolEntry<ulong>>())
                .Where(s => s.Name.Length > 0 && s.Type == SymbolType.Function)
                .GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First());
            var seen = new HashSet<ulong>();
            foreach (var (name, nr) in Functions)
            {
                if (!symbols.TryGetValue(name, out var sym) || sym.Size < 8) continue;
                ulong address = baseAddress + (sym.Value - load);
                if (!seen.Add(address)) continue;
                writes.Add(new Write(name, address, Stub(nr)));
            }
        }
        return writes;
    }

    /// <summary>mov eax, nr; syscall; ret.</summary>
    public static byte[] Stub(int nr) => [0xb8, (byte)nr, (byte)(nr >> 8), 0, 0, 0x0f, 0x05, 0xc3];
}
