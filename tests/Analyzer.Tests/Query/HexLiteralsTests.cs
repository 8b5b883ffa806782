namespace Ether.Replay.Analyzer.Tests.Query;

public sealed class HexLiteralsTests
{
    [Theory]
    [InlineData("SELECT * FROM i WHERE rip = 0x401000", "SELECT * FROM i WHERE rip = '0x401000'::UBIGINT")]
    [InlineData("rip BETWEEN 0x10 AND 0XFF", "rip BETWEEN '0x10'::UBIGINT AND '0XFF'::UBIGINT")]
    [InlineData("SELECT '0x401000', \"0x1\" FROM t -- 0x2\n/* 0x3 */ WHERE a=0x4", "SELECT '0x401000', \"0x1\" FROM t -- 0x2\n/* 0x3 */ WHERE a='0x4'::UBIGINT")]
    [InlineData("SELECT x0x12, 0x1g, a.0x5 FROM t", "SELECT x0x12, 0x1g, a.0x5 FROM t")]
    [InlineData("SELECT 'it''s 0x1' || 0x2", "SELECT 'it''s 0x1' || '0x2'::UBIGINT")]
    [InlineData("SELECT 0x", "SELECT 0x")]
    public void Hex_literals_outside_strings_and_comments_become_addresses(string sql, string expected) =>
        Assert.Equal(expected, HexLiterals.Rewrite(sql));

    [Fact]
    public void Duckdb_reads_the_rewritten_literal_as_the_address()
    {
        using var x = new Support.Exported(p => FakePackedProgram.Write(p, 1));
        Assert.Equal(0xffffffffffffffffUL, x.Db.Scalar("SELECT 0xffffffffffffffff"));
        Assert.Equal(1L, x.Db.Scalar("SELECT count(*) FROM instructions WHERE rip BETWEEN 0x401000 AND 0x401004")); // mov ecx, once
        Assert.Equal((long)FakePackedProgram.LayerCode(1, 1).Length, x.Db.Scalar("SELECT count(*) FROM instructions WHERE rip = 0x401005")); // the xor, per byte
    }

    [Fact]
    public void Every_entry_point_of_the_database_reads_hex_literals_as_addresses()
    {
        using var x = new Support.Exported(p => FakePackedProgram.Write(p, 1));
        long xors = FakePackedProgram.LayerCode(1, 1).Length;
        x.Db.Execute("SET VARIABLE xor_rip = 0x401005");
        Assert.Equal(0x401005UL, x.Db.Scalar("SELECT getvariable('xor_rip')"));
        Assert.Equal(xors, x.Db.Rows("SELECT count(*) FROM instructions WHERE rip = 0x401005")[0][0]);
        using (var reader = x.Db.Query("SELECT count(*) FROM instructions WHERE rip = 0x401005"))
        {
            Assert.True(reader.Read());
            Assert.Equal(xors, reader.GetInt64(0));
        }
        string parquet = Path.Combine(Path.GetDirectoryName(x.Dataset)!, "xor.parquet");
        x.Db.CopyTo("SELECT step, rip FROM instructions WHERE rip = 0x401005;", parquet);
        Assert.Equal(xors, x.Db.Scalar($"SELECT count(*) FROM read_parquet('{parquet}') WHERE rip = 0x401005"));
    }
}
