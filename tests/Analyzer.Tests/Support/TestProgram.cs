namespace Ether.Replay.Analyzer.Tests.Support;

/// <summary>Compiles a C program of Programs/ (copied next to the tests) with gcc at test time.</summary>
internal static class TestProgram
{
    /// <summary>Builds Programs/<paramref name="source"/> (e.g. "unpackmode/wx_probe.c") into DIRECTORY/<paramref name="name"/>.</summary>
    public static string Build(string directory, string source, string name, params string[] flags)
    {
        string output = Path.Combine(directory, name);
        var gcc = EtherProcess.Exec(directory, "gcc", ["-O1", .. flags, "-o", output, Path.Combine(AppContext.BaseDirectory, "Programs", source)]);
        Assert.True(gcc.ExitCode == 0, gcc.ToString());
        // Written back now, not whenever the kernel gets to it: until then the file's page-cache pages
        // are dirty, and a private mapping of one the program never wrote counts as Private_Dirty in
        // smaps, after the writeback as Private_Clean — the maps probe's native and recorded runs
        // straddling the writeback printed different counters. Flushed by `sync FILE`, which opens it
        // read-only: a write handle in this process is inherited by any child another test forks at
        // that moment (until its exec closes it), and exec'ing the program then fails with ETXTBSY
        // ("Text file busy", seen in a Packers run).
        var sync = EtherProcess.Exec(directory, "sync", [output]);
        Assert.True(sync.ExitCode == 0, sync.ToString());
        return output;
    }

    /// <summary>Drops a file's pages from the page cache, as reclaim or drop_caches may between two runs of
    /// a program: `dd iflag=nocache count=0` (fadvise DONTNEED on the whole file; clean pages only,
    /// which Build's are).</summary>
    public static void EvictFromPageCache(string file)
    {
        var dd = EtherProcess.Exec(Path.GetDirectoryName(file)!, "dd", [$"if={file}", "iflag=nocache", "count=0", "status=none"]);
        Assert.True(dd.ExitCode == 0, dd.ToString());
    }

    /// <summary>Copies a program to run it, with its mode, through `cp`: a copy written by this process
    /// (File.Copy) holds a write handle that a child forked by another test at that moment keeps until
    /// its exec, and running the copy then fails with ETXTBSY ("Text file busy").</summary>
    public static string CopyExecutable(string from, string to)
    {
        var cp = EtherProcess.Exec(Path.GetDirectoryName(to)!, "cp", [from, to]);
        Assert.True(cp.ExitCode == 0, cp.ToString());
        return to;
    }
}
