using Ether.Replay.Analyzer.Export;
using Ether.Replay.Analyzer.Query;
using Ether.Replay.Formats.Log;
using Spectre.Console;

namespace Ether.Replay.Cli.Commands;

/// <summary>
/// What the analysis subcommands (export, sql, at, syscalls, unpack, writes, hot, summary) share on
/// top of <see cref="Cli"/>: TARGET resolution with a progress bar on stderr while an .etrace file is
/// exported to its cache, and the warning for a cut or damaged trace.
/// </summary>
internal static class AnalyzerCli
{
    /// <summary>TARGET of the analyses that take either a trace or a dataset.</summary>
    public static Argument<string> TargetArgument(string description = "An .etrace file or a dataset folder") => new("target") { Description = description };

    /// <summary>--pid / -p: one process of the target.</summary>
    public static Option<int?> PidOption() => new("--pid", "-p") { Description = "Only this process" };

    /// <summary>--trace: one trace of a dataset made of several.</summary>
    public static Option<string?> TraceOption() => new("--trace") { Description = "Only this trace of a multi-trace dataset" };

    /// <summary>Warns when a trace is cut or damaged: what follows covers its readable prefix.</summary>
    public static void WarnIfDamaged(TraceSummary summary, string path)
    {
        if (summary.Damage is { } damage)
            Cli.Warn($"{path}: the trace is cut or damaged ({damage}); analysing the readable prefix (steps up to {summary.LastStep:N0})");
    }

    /// <summary>TARGET (dataset folder or .etrace file) as a dataset folder, exporting with progress if needed.</summary>
    public static string Dataset(string target)
    {
        string dataset = WithProgress<string>($"exporting {Path.GetFileName(target)}", report =>
        {
            string d = DatasetTarget.Resolve(target, report, out var w);
            return (d, w);
        }, out var warning);
        if (warning != null) Cli.Warn($"{target}: {warning}");
        return dataset;
    }

    /// <summary>Runs <paramref name="work"/>, showing its progress on stderr when stderr is a terminal.</summary>
    public static T WithProgress<T>(string what, Func<Action<ExportProgress>, (T Result, string? Warning)> work, out string? warning)
    {
        if (Console.IsErrorRedirected)
        {
            var (r, w) = work(_ => { });
            warning = w;
            return r;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        (T Result, string? Warning) result = default;
        console.Progress().AutoClear(true).HideCompleted(true).Start(ctx =>
        {
            var task = ctx.AddTask(Markup.Escape(what), autoStart: true, maxValue: 1);
            result = work(p =>
            {
                task.MaxValue = Math.Max(1, p.Chunks);
                task.Value = p.Chunk;
            });
        });
        warning = result.Warning;
        return result.Result;
    }

    /// <summary>Opens the DuckDB session over TARGET.</summary>
    public static AnalysisDatabase Open(string target) => AnalysisDatabase.Open(Dataset(target));
}
