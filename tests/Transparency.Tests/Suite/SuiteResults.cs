using System.Collections.Concurrent;

namespace Ether.Replay.Transparency.Tests.Suite;

/// <summary>
/// Every suite program run once natively, once natively under load, and recorded in full and in
/// syscalls mode — computed once for the whole test class (two at a time: each recording runs its
/// own tracer thread, and the machine has two CPUs).
/// </summary>
public sealed class SuiteResults : IDisposable
{
    public IReadOnlyDictionary<string, ProgramRun> Native { get; }
    public IReadOnlyDictionary<string, ProgramRun> NativeUnderLoad { get; }
    public IReadOnlyDictionary<string, RecordedRunner.Recorded> Full { get; }
    public IReadOnlyDictionary<string, RecordedRunner.Recorded> Syscalls { get; }
    public string TraceDirectory { get; }

    public SuiteResults()
    {
        InheritedDescriptors.CloseOnExec();
        var programs = SuiteBuild.Programs;
        TraceDirectory = Directory.CreateTempSubdirectory("tmp.").FullName;
        var native = new ConcurrentDictionary<string, ProgramRun>();
        foreach (var p in programs) native[p.Name] = NativeRunner.Run(p);
        Native = native;
        NativeUnderLoad = NativeRunner.UnderLoad(() => programs.ToDictionary(p => p.Name, NativeRunner.Run));

        var full = new ConcurrentDictionary<string, RecordedRunner.Recorded>();
        var syscalls = new ConcurrentDictionary<string, RecordedRunner.Recorded>();
        var work = programs.SelectMany(p => new[] { (p, "full"), (p, "syscalls") }).ToList();
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = 2 }, item =>
        {
            var (program, mode) = item;
            var recorded = RecordedRunner.Run(program, mode, TraceDirectory);
            (mode == "full" ? full : syscalls)[program.Name] = recorded;
        });
        Full = full;
        Syscalls = syscalls;
    }

    public void Dispose()
    {
        try { Directory.Delete(TraceDirectory, recursive: true); } catch (IOException) { }
    }
}
