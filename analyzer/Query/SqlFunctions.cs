using Ether.Replay.Analyzer.Disassembly;
using Ether.Replay.Formats.Abi;
using DuckDB.NET.Data;

namespace Ether.Replay.Analyzer.Query;

/// <summary>
/// Scalar functions every session gets, so SQL can read code and numbers the way an analyst does:
/// <c>disasm(bytes, rip [, bits])</c> (Iced, Intel syntax; every instruction in the bytes, "; "
/// between them), <c>syscall_name(nr, abi)</c>, <c>syscall_category(name, abi)</c> (the system-call
/// table's category of a Linux call), <c>errno_name(errno)</c>, <c>signal_name(signo)</c>.
/// DuckDB calls them from its worker threads, so each thread formats with its own disassembler.
/// </summary>
internal static class SqlFunctions
{
    private static readonly ThreadLocal<Disassembler> Disassembler64 = new(() => new Disassembler(64));
    private static readonly ThreadLocal<Disassembler> Disassembler32 = new(() => new Disassembler(32));
    private static readonly ScalarFunctionOptions Pure = new() { IsPureFunction = true };

    public static void Register(DuckDBConnection connection)
    {
        connection.RegisterScalarFunction<byte[], ulong, string>("disasm", (args, result, rows) =>
        {
            var d = Disassembler64.Value!;
            Span<byte> buffer = stackalloc byte[64];
            for (ulong i = 0; i < rows; i++)
                result.WriteValue(Format(d, args[0], args[1].GetValue<ulong>(i), i, buffer), i);
        }, Pure);
        connection.RegisterScalarFunction<byte[], ulong, int, string>("disasm", (args, result, rows) =>
        {
            Span<byte> buffer = stackalloc byte[64];
            for (ulong i = 0; i < rows; i++)
            {
                var d = args[2].GetValue<int>(i) == 32 ? Disassembler32.Value! : Disassembler64.Value!;
                result.WriteValue(Format(d, args[0], args[1].GetValue<ulong>(i), i, buffer), i);
            }
        }, Pure);
        connection.RegisterScalarFunction<long, string, string>("syscall_name", (args, result, rows) =>
        {
            for (ulong i = 0; i < rows; i++)
            {
                long nr = args[0].GetValue<long>(i);
                string abi = args[1].GetValue<string>(i);
                result.WriteValue(SyscallTables.Name(abi, nr), i);
            }
        }, Pure);
        connection.RegisterScalarFunction<string, string, string>("syscall_category", (args, result, rows) =>
        {
            for (ulong i = 0; i < rows; i++)
            {
                string name = args[0].GetValue<string>(i);
                string abi = args[1].GetValue<string>(i);
                if (LinuxSyscalls.TryFor(abi, out var table) && table.TryGetNumber(name, out var nr) && table.Find(nr) is { } call)
                    result.WriteValue(CategoryNames[(int)call.Category], i);
                else
                    result.WriteNull(i);
            }
        }, Pure);
        connection.RegisterScalarFunction<long, string>("errno_name", (args, result, rows) =>
        {
            for (ulong i = 0; i < rows; i++)
            {
                long n = args[0].GetValue<long>(i);
                if (n is > 0 and <= int.MaxValue && Errno.Name((int)n) is { } name) result.WriteValue(name, i);
                else result.WriteNull(i);
            }
        }, Pure);
        connection.RegisterScalarFunction<long, string>("signal_name", (args, result, rows) =>
        {
            for (ulong i = 0; i < rows; i++)
            {
                long n = args[0].GetValue<long>(i);
                if (n is > 0 and <= int.MaxValue && Signals.Name((int)n) is { } name) result.WriteValue(name, i);
                else result.WriteNull(i);
            }
        }, Pure);
    }

    /// <summary>"file", "descriptor", ... as `ether summary` prints them.</summary>
    private static readonly string[] CategoryNames =
        Enum.GetValues<SyscallCategory>().Select(c => c.ToString().ToLowerInvariant()).ToArray();

    private static string Format(Disassembler d, DuckDB.NET.Data.DataChunk.Reader.IDuckDBDataReader blob, ulong rip, ulong row, Span<byte> buffer)
    {
        using var stream = blob.GetValue<Stream>(row);
        if (stream.Length <= buffer.Length)
        {
            int n = stream.Read(buffer);
            return d.Format(buffer[..n], rip);
        }
        var all = new byte[stream.Length];
        stream.ReadExactly(all);
        return d.Format(all, rip);
    }
}
