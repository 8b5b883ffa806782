namespace Ether.Replay.Formats.Abi;

/// <summary>
/// The Linux system-call table: one row per call (<see cref="LinuxSyscalls.Rows"/>, written out in
/// LinuxSyscalls.Rows.cs), looked up by number per ABI through <see cref="For"/>. Numbers are
/// never typed here: they come from the generated <see cref="SyscallTables"/>.
/// </summary>
/// <example>
/// <code>
/// var calls = LinuxSyscalls.For(abi);                     // "linux-x86_64" or "linux-i386"
/// if (calls.Has(nr, SyscallTraits.ChangesMap)) ...        // one array lookup, for the hot path
/// if (calls.Find(nr) is { } call &amp;&amp; call.Has(SyscallTraits.WritesFile))
///     int fd = (int)args[call.TargetFd];
/// long openat = calls.Number("openat");                   // 257 on x86-64, 295 on i386
/// </code>
/// </example>
public static partial class LinuxSyscalls
{
    private static readonly Lazy<LinuxSyscallTable> X86_64Table = new(() => new LinuxSyscallTable(SyscallTables.LinuxX86_64Abi, Rows));
    private static readonly Lazy<LinuxSyscallTable> I386Table = new(() => new LinuxSyscallTable(SyscallTables.LinuxI386Abi, Rows));

    /// <summary>Every row, including the i386 socketcall sub-calls (recv, send) that have no number of their own.</summary>
    public static IReadOnlyList<LinuxSyscall> Rows => AllRows;

    public static LinuxSyscallTable X86_64 => X86_64Table.Value;
    public static LinuxSyscallTable I386 => I386Table.Value;

    /// <summary>The table of "linux-x86_64" or "linux-i386"; throws <see cref="ArgumentException"/> for other ABIs.</summary>
    public static LinuxSyscallTable For(string abi) =>
        TryFor(abi, out var table)
            ? table
            : throw new ArgumentException($"no Linux system-call table for ABI '{abi}'", nameof(abi));

    public static bool TryFor(string abi, out LinuxSyscallTable table)
    {
        table = abi switch
        {
            SyscallTables.LinuxX86_64Abi => X86_64,
            SyscallTables.LinuxI386Abi => I386,
            _ => null!,
        };
        return table is not null;
    }

    /// <summary>
    /// How a call of a trace's ABI returns, by name, for readers that have names but no numbers (the
    /// analyzer): Hex for the calls that return addresses; Decimal for unknown names and other ABIs.
    /// </summary>
    public static SyscallReturn ReturnOf(string abi, string name) =>
        TryFor(abi, out var table) && table.Find(name) is { } call ? call.Return : SyscallReturn.Decimal;
}

/// <summary>The rows of one Linux ABI by number and by name.</summary>
public sealed class LinuxSyscallTable
{
    private readonly LinuxSyscall?[] _byNumber;
    private readonly SyscallTraits[] _traits;
    private readonly Dictionary<string, LinuxSyscall> _byName = new(StringComparer.Ordinal);

    internal LinuxSyscallTable(string abi, IReadOnlyList<LinuxSyscall> rows)
    {
        Abi = abi;
        Numbers = SyscallTables.Find(abi);
        foreach (var row in rows)
            if (row.OnlyAbi is null || row.OnlyAbi == abi)
                _byName[row.Name] = row; // a row for this ABI only comes after the general one in Rows
        _byNumber = new LinuxSyscall?[Numbers.MaxNumber + 1];
        _traits = new SyscallTraits[Numbers.MaxNumber + 1];
        foreach (var (number, name) in Numbers.Entries())
        {
            if (!_byName.TryGetValue(name, out var row))
                continue;
            _byNumber[number] = row;
            _traits[number] = row.Traits;
        }
    }

    public string Abi { get; }

    /// <summary>The generated number-to-name table of this ABI.</summary>
    public SyscallTable Numbers { get; }

    /// <summary>The row of call <paramref name="number"/>, or null for a number the table does not know.</summary>
    public LinuxSyscall? Find(long number) => number >= 0 && number < _byNumber.Length ? _byNumber[number] : null;

    /// <summary>The row named <paramref name="name"/> as this ABI sees it (also the socketcall sub-calls), or null.</summary>
    public LinuxSyscall? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>True when call <paramref name="number"/> has any of <paramref name="traits"/>; false for unknown numbers. Allocation-free.</summary>
    public bool Has(long number, SyscallTraits traits) =>
        number >= 0 && number < _traits.Length && (_traits[number] & traits) != 0;

    /// <summary>The call's name, or "syscall_N" for an unknown number.</summary>
    public string Name(long number) => Numbers.Name(number);

    public bool TryGetNumber(string name, out long number) => Numbers.TryGetNumber(name, out number);

    /// <summary>The number of a call this ABI has; throws <see cref="ArgumentException"/> otherwise.</summary>
    public long Number(string name) =>
        Numbers.TryGetNumber(name, out var number) ? number : throw new ArgumentException($"{Abi} has no system call '{name}'", nameof(name));

    /// <summary>
    /// The file offset a call reads, writes or maps at (its <see cref="SyscallArgRole.Offset"/> argument,
    /// in bytes: i386 splits a loff_t over two registers, mmap2 counts pages), or null when it has none.
    /// </summary>
    public long? Offset(LinuxSyscall call, ReadOnlySpan<ulong> args)
    {
        if (call.Find(SyscallArgRole.Offset) is not { } arg || arg.Index >= args.Length)
            return null;
        var i386 = Abi == SyscallTables.LinuxI386Abi;
        var raw = args[arg.Index];
        return arg.Kind switch
        {
            SyscallArgKind.Loff when i386 => arg.Index + 1 < args.Length ? (long)((args[arg.Index + 1] & 0xffff_ffff) << 32 | (raw & 0xffff_ffff)) : null,
            SyscallArgKind.PageOffset => (long)((i386 ? raw & 0xffff_ffff : raw) * 4096),
            _ => i386 ? (int)(uint)raw : (long)raw,
        };
    }

    /// <summary>Every (number, row) of this ABI whose call has any of <paramref name="traits"/>, by number.</summary>
    public IEnumerable<(long Number, LinuxSyscall Call)> With(SyscallTraits traits)
    {
        for (long number = 0; number < _byNumber.Length; number++)
            if (_byNumber[number] is { } call && call.Has(traits))
                yield return (number, call);
    }
}
