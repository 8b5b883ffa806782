using ELFSharp.ELF;
using ELFSharp.ELF.Sections;

namespace Ether.Replay.Recorder.Tests.Ptrace;

/// <summary>Symbol addresses and sizes of a test program (non-PIE, so they are the run-time addresses).</summary>
internal static class ElfSymbols
{
    public static Dictionary<string, (ulong Address, ulong Size)> Read(string path)
    {
        using var elf = ELFReader.Load<ulong>(path);
        var table = (ISymbolTable)elf.GetSection(".symtab");
        var symbols = new Dictionary<string, (ulong, ulong)>();
        foreach (var entry in table.Entries.OfType<SymbolEntry<ulong>>())
            if (entry.Name.Length > 0) symbols.TryAdd(entry.Name, (entry.Value, entry.Size));
        return symbols;
    }
}
