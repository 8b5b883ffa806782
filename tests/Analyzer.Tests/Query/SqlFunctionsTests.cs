namespace Ether.Replay.Analyzer.Tests.Query;

public sealed class SqlFunctionsTests
{
    [Fact]
    public void Disasm_syscall_name_errno_name_and_signal_name_work_in_sql()
    {
        using var x = new Exported(p => FakePackedProgram.Write(p, 1));
        Assert.Equal("mov ecx, 0xe", x.Db.Scalar("SELECT disasm(bytes, rip) FROM instructions WHERE step = 1"));
        Assert.Equal("xor byte ptr [rdi], 0x5a; inc rdi; dec ecx; jne short 0x401005",
            x.Db.Scalar("SELECT disasm(bytes, start) FROM basic_blocks WHERE start = 0x401005"));
        Assert.Equal("dec ecx", x.Db.Scalar("SELECT disasm(from_hex('49'), 0::UBIGINT, 32)"));
        Assert.Equal("inc rcx", x.Db.Scalar("SELECT disasm(from_hex('48ffc1'), 0::UBIGINT)"));
        Assert.Equal("(bad)", x.Db.Scalar("SELECT disasm(from_hex('0f0b0f'), 0::UBIGINT)")?.ToString()?.Split("; ")[^1]);
        Assert.Equal("openat", x.Db.Scalar("SELECT syscall_name(257, 'linux-x86_64')"));
        Assert.Equal("syscall_9999", x.Db.Scalar("SELECT syscall_name(9999, 'linux-x86_64')"));
        Assert.Equal("exit", x.Db.Scalar("SELECT syscall_name(1, 'linux-i386')"));
        Assert.Equal("ENOENT", x.Db.Scalar("SELECT errno_name(2)"));
        Assert.Null(x.Db.Scalar("SELECT errno_name(0)"));
        Assert.Equal("SIGSEGV", x.Db.Scalar("SELECT signal_name(11)"));
        Assert.Null(x.Db.Scalar("SELECT disasm(NULL, 1::UBIGINT)"));
        // Every name the recorder wrote agrees with the table.
        Assert.Equal(0L, x.Db.Scalar("SELECT count(*) FROM syscalls WHERE syscall_name(nr, abi) <> name"));
    }
}
