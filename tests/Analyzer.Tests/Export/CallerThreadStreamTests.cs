namespace Ether.Replay.Analyzer.Tests.Export;

/// <summary>
/// The browser's background export must not leave its low-priority thread: every asynchronous write,
/// flush and read of its Parquet files completes before the call returns (so the code after each of
/// Parquet.Net's awaits keeps running on the same thread), with the bytes really on disk.
/// </summary>
public sealed class CallerThreadStreamTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"ether-caller-thread-{Guid.NewGuid():N}.bin");

    [Fact]
    public async Task Async_writes_flushes_and_reads_complete_before_they_return()
    {
        var file = new FileStream(_path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        await using var stream = new CallerThreadStream(file);
        byte[] big = new byte[3 << 20]; // larger than the FileStream's buffer: reaches the disk inside the call
        Random.Shared.NextBytes(big);

        var write = stream.WriteAsync(big.AsMemory());
        Assert.True(write.IsCompletedSuccessfully);
        var writeArray = stream.WriteAsync(big, 0, 100);
        Assert.True(writeArray.IsCompletedSuccessfully);
        var flush = stream.FlushAsync();
        Assert.True(flush.IsCompletedSuccessfully);
        Assert.Equal(big.Length + 100L, new FileInfo(_path).Length);

        stream.Position = 0;
        byte[] back = new byte[big.Length];
        var read = stream.ReadAsync(back.AsMemory());
        Assert.True(read.IsCompletedSuccessfully);
        Assert.Equal(big.Length, await read);
        Assert.Equal(big, back);
    }

    [Fact]
    public void A_cancelled_write_throws_and_writes_nothing()
    {
        using var stream = new CallerThreadStream(new FileStream(_path, FileMode.Create));
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.Throws<OperationCanceledException>(() => { _ = stream.WriteAsync(new byte[10].AsMemory(), cancel.Token); });
        stream.Flush();
        Assert.Equal(0, new FileInfo(_path).Length);
    }

    public void Dispose() => File.Delete(_path);
}
