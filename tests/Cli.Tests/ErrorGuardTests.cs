using Ether.Replay.Analyzer.Analyses;
using Ether.Replay.Analyzer.Query;
using Ether.Replay.Formats.Log;

namespace Ether.Replay.Cli.Tests;

/// <summary>The one error guard of every subcommand: what each failure reads as.</summary>
public sealed class ErrorGuardTests
{
    public static TheoryData<Exception, string> Failures => new()
    {
        { new CliException("--step must be 0 or more"), "--step must be 0 or more" },
        { new AnalysisInputException("thread 7 is not alive\nat step 3"), "thread 7 is not alive at step 3" },
        { new SqlException("Parser Error: syntax error at or near \"SELEC\"", new Exception()), "Parser Error: syntax error at or near \"SELEC\"" },
        { new TraceFormatException(4096, "chunk 3: bad checksum"), "chunk 3: bad checksum (at byte 4096)" },
        { new FileNotFoundException("Could not find file '/x/a.etrace'.", "/x/a.etrace"), "/x/a.etrace: no such file" },
        { new FileNotFoundException("a.etrace: no such file or directory", "a.etrace"), "a.etrace: no such file or directory" },
        { new DirectoryNotFoundException("ds: no such dataset folder"), "ds: no such dataset folder" },
        { new InvalidDataException("ds: not a dataset folder"), "ds: not a dataset folder" },
        { new UnauthorizedAccessException("Access to the path '/ro' is denied."), "permission denied: Access to the path '/ro' is denied." },
        { new IOException("No space left on device : '/full'"), "No space left on device : '/full'" },
        { new OperationCanceledException(), "interrupted" },
        { new AggregateException(new SqlException("boom", new Exception())), "boom" },
        { new InvalidOperationException("half\nbaked"), "internal error: InvalidOperationException: half baked (please report this)" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Each_failure_is_one_line(Exception failure, string expected)
    {
        Assert.Equal(expected, Cli.Describe(failure));
        var stderr = new StringWriter();
        var saved = Console.Error;
        Console.SetError(stderr);
        try
        {
            Assert.Equal(Cli.Failed, Cli.Guard(() => throw failure));
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Equal($"ether: {expected}\n", stderr.ToString());
    }

    [Fact]
    public void Analysis_commands_answer_bad_requests_with_one_line()
    {
        using var dir = new TempDir();
        FakePackedProgram.Write(dir.File("p.etrace"), 1);
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "summary", "p.etrace", "--trace", "nosuch"), "no trace nosuch in the dataset");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "99999"), "--step 99999 is outside the trace");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "5", "--tid", "77"), "thread 77 is not alive at step 5");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "5", "--mem", "zz:8"), "--mem zz:8: zz: not an address or register");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "at", "p.etrace", "--step", "5", "--mem", "rsp:0"), "--mem rsp:0: the length must be between 1 and 1048576");
        EtherProcess.AssertCleanFailure(EtherProcess.Run(dir.Path, "syscalls", "p.etrace", "-e", ","), "-e ,: no system call names");
    }
}
