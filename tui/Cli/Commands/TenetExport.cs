using Ether.Replay.Analyzer.Export;
using Ether.Replay.Analyzer.Replay;

namespace Ether.Replay.Cli.Commands;

/// <summary>`ether export --format tenet TRACE --thread TID -o FILE`: one thread as Tenet's text trace.</summary>
internal static class TenetExport
{
    public static readonly Option<int?> Thread = new("--thread", "-t") { Description = "tenet: the thread (tid) to export; `ether sql TRACE \"SELECT * FROM threads\"` lists them" };
    public static readonly Option<int?> Pid = new("--pid") { Description = "tenet: the thread's process, when its tid was reused" };
    public static readonly Option<long> FromStep = new("--from-step") { Description = "tenet: first step to export", DefaultValueFactory = _ => 1 };
    public static readonly Option<long?> ToStep = new("--to-step") { Description = "tenet: last step to export (Tenet handles up to about 10 M instructions)" };
    public static readonly Option<string> ImageBase = new("--image-base")
    {
        Description = "tenet: where the disassembler shows the image: auto (its link-time base from the ELF file: 0 for a PIE, as IDA opens it), " +
                      "none (runtime addresses), or an address (e.g. 0x400000 for Binary Ninja, 0x100000 for Ghidra). Addresses inside the image " +
                      "(rip, register values, memory accesses) move by the difference",
        DefaultValueFactory = _ => "auto",
    };
    public static readonly Option<string?> Image = new("--image") { Description = "tenet: the image to line up (a path or file name in the memory map, e.g. libc.so.6); default: the program" };

    public static void Run(ParseResult r, string trace, string file)
    {
        int tid = r.GetValue(Thread) ?? throw new CliException("--format tenet needs --thread TID (Tenet traces are one thread's)");
        long from = r.GetValue(FromStep);
        long to = r.GetValue(ToStep) ?? long.MaxValue;
        if (from < 1 || to < from) throw new CliException($"--from-step {from} / --to-step {to}: need 1 <= from <= to");
        var options = new TenetOptions
        {
            Tid = tid,
            Pid = r.GetValue(Pid),
            FromStep = from,
            ToStep = to,
            Image = r.GetValue(Image),
        };
        string baseText = r.GetValue(ImageBase) ?? "auto";
        options = baseText switch
        {
            "auto" => options with { Rebase = TenetRebase.LinkBase },
            "none" => options with { Rebase = TenetRebase.None },
            _ => options with { Rebase = TenetRebase.Address, ImageBase = ParseAddress(baseText) },
        };
        using (var reader = Cli.OpenTrace(trace)) AnalyzerCli.WarnIfDamaged(reader.Summary, trace);
        string temp = file == "-" ? "" : file + ".partial";
        var result = AnalyzerCli.WithProgress<TenetResult>($"exporting thread {tid} of {Path.GetFileName(trace)} for Tenet", report =>
        {
            using var output = file == "-" ? Console.Out : new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false), 1 << 20);
            var done = TenetExporter.Export(trace, output, options, (chunk, chunks) => report(new ExportProgress(chunk, chunks, 0, 0)));
            return (done, null);
        }, out _);
        if (file != "-") File.Move(temp, file, overwrite: true);
        if (result.EndNote != null) Cli.Warn($"{trace}: {result.EndNote}");
        string image = result.Image is { } i
            ? $"; {i.Path} at 0x{i.RuntimeBase:x} shown at 0x{i.DisplayBase:x} (slide 0x{i.Slide:x})"
            : "; runtime addresses";
        Console.Error.WriteLine($"{trace}: thread {result.Tid} of pid {result.Pid}, {result.Lines:N0} lines (steps {result.FirstStep:N0}..{result.LastStep:N0}){image} -> {file}");
    }

    private static ulong ParseAddress(string text)
    {
        if (!AddressExpression.TryNumber(text.ToLowerInvariant(), out ulong value)) throw new CliException($"--image-base {text}: give auto, none, or an address (0x... or decimal)");
        return value;
    }
}
