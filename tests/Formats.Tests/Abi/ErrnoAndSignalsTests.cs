using Ether.Replay.Formats.Abi;

namespace Ether.Replay.Formats.Tests.Abi;

public class ErrnoAndSignalsTests
{
    [Theory]
    [InlineData(1, "EPERM", "Operation not permitted")]
    [InlineData(2, "ENOENT", "No such file or directory")]
    [InlineData(11, "EAGAIN", "Resource temporarily unavailable")]
    [InlineData(13, "EACCES", "Permission denied")]
    [InlineData(25, "ENOTTY", "Inappropriate ioctl for device")]
    [InlineData(38, "ENOSYS", "Function not implemented")]
    [InlineData(110, "ETIMEDOUT", "Connection timed out")]
    [InlineData(133, "EHWPOISON", "Memory page has hardware error")]
    public void Errno_names_and_messages_are_what_strace_prints(int errno, string name, string message)
    {
        Assert.Equal(name, Errno.Name(errno));
        Assert.Equal(message, Errno.Message(errno));
        Assert.True(Errno.TryGetNumber(name, out var back));
        Assert.Equal(errno, back);
    }

    [Fact]
    public void Aliases_do_not_replace_the_first_name()
    {
        // EWOULDBLOCK = EAGAIN and EDEADLOCK = EDEADLK in the headers; strace prints the first.
        Assert.Equal("EAGAIN", Errno.Name(11));
        Assert.Equal("EDEADLK", Errno.Name(35));
        Assert.False(Errno.TryGetNumber("EWOULDBLOCK", out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(41)]
    [InlineData(4000)]
    [InlineData(-5)]
    public void Unknown_errno_has_no_name_and_glibcs_message(int errno)
    {
        Assert.Null(Errno.Name(errno));
        Assert.Equal($"Unknown error {errno}", Errno.Message(errno));
    }

    [Theory]
    [InlineData(-1L, true)]
    [InlineData(-4095L, true)]
    [InlineData(-4096L, false)]
    [InlineData(0L, false)]
    [InlineData(3L, false)]
    public void Error_range_is_the_kernels(long ret, bool isError) => Assert.Equal(isError, Errno.IsError(ret));

    [Theory]
    [InlineData(1, "SIGHUP")]
    [InlineData(6, "SIGABRT")]
    [InlineData(9, "SIGKILL")]
    [InlineData(11, "SIGSEGV")]
    [InlineData(17, "SIGCHLD")]
    [InlineData(29, "SIGIO")]
    [InlineData(31, "SIGSYS")]
    [InlineData(32, "SIGRTMIN")]
    [InlineData(33, "SIGRT_1")]
    [InlineData(64, "SIGRT_32")]
    public void Signal_names_are_straces(int signal, string name)
    {
        Assert.Equal(name, Signals.Name(signal));
        Assert.True(Signals.TryGetNumber(name, out var back));
        Assert.Equal(signal, back);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    [InlineData(-1)]
    public void Signals_outside_1_to_64_have_no_name(int signal) => Assert.Null(Signals.Name(signal));

    [Theory]
    [InlineData(512, "ERESTARTSYS", "? ERESTARTSYS (To be restarted if SA_RESTART is set)")]
    [InlineData(513, "ERESTARTNOINTR", "? ERESTARTNOINTR (To be restarted)")]
    [InlineData(514, "ERESTARTNOHAND", "? ERESTARTNOHAND (To be restarted if no handler)")]
    [InlineData(516, "ERESTART_RESTARTBLOCK", "? ERESTART_RESTARTBLOCK (Interrupted by signal)")]
    public void Kernel_restart_codes_have_names_and_print_as_strace_does(int errno, string name, string printed)
    {
        Assert.True(Errno.IsRestart(errno));
        Assert.Equal(name, Errno.Name(errno));
        Assert.True(Errno.TryGetNumber(name, out var back));
        Assert.Equal(errno, back);
        Assert.Equal(printed, Errno.FormatFailure(errno));
    }

    [Fact]
    public void Failures_print_as_strace_does()
    {
        Assert.Equal("-1 ENOENT (No such file or directory)", Errno.FormatFailure(Errno.ENOENT));
        Assert.Equal("-1 (errno 4000)", Errno.FormatFailure(4000));
        Assert.False(Errno.IsRestart(515)); // ENOIOCTLCMD: never reaches user space, not a restart
        Assert.True(Errno.IsInterruptedSleep(-Errno.EINTR));
        Assert.True(Errno.IsInterruptedSleep(-Errno.ERESTART_RESTARTBLOCK));
        Assert.False(Errno.IsInterruptedSleep(-Errno.ERESTARTSYS));
    }

    [Fact]
    public void Generated_constants_agree_with_the_name_tables()
    {
        // The constants and the name tables come from the same header lines; a name maps to its constant.
        foreach (var field in typeof(Signals).GetFields().Where(f => f.IsLiteral && f.Name.StartsWith("SIG")))
            Assert.Equal(field.Name, Signals.Name((int)field.GetRawConstantValue()!));
        foreach (var field in typeof(Errno).GetFields().Where(f => f.IsLiteral && f.Name.StartsWith('E')))
            Assert.Equal(field.Name, Errno.Name((int)field.GetRawConstantValue()!));
        Assert.Equal(5, Signals.SIGTRAP);
        Assert.Equal(4, Errno.EINTR);
    }
}
