using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

public class SqliteWriterTests
{
    [Fact]
    public async Task AnOperationThatEndsTheWholeTransaction_FailsItsCaller_AndTheWriterGoesOn()
    {
        using var dir = TempDirectory.Create();
        var connection = new SqliteConnection($"Data Source={Path.Combine(dir.Path, "w.db")};Pooling=False");
        connection.Open();
        using var writer = new SqliteWriter(connection, 16, () => { }, NullLogger.Instance);
        await writer.WriteAsync(c => c.Command("CREATE TABLE t (v INTEGER)").ExecuteNonQuery(), default);

        // SQLite itself rolls the whole transaction back on errors such as a full disk; the savepoint of the
        // operation is then gone too. Simulated here by ending the transaction inside the operation.
        var broken = writer.WriteAsync<int>(c =>
        {
            c.Command("ROLLBACK").ExecuteNonQuery();
            throw new InvalidOperationException("disk full");
        }, default);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => broken.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("disk full", error.Message);
        await writer.WriteAsync(c => c.Command("INSERT INTO t VALUES (1)").ExecuteNonQuery(), default).WaitAsync(TimeSpan.FromSeconds(10));
        var count = await writer.WriteAsync(c => Convert.ToInt32(c.Command("SELECT count(*) FROM t").ExecuteScalar()), default);
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task DisposedWhileAWriteIsStillInProgress_TheWriteKeepsItsConnection_AndCommits()
    {
        using var dir = TempDirectory.Create();
        var path = Path.Combine(dir.Path, "w.db");
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        var writer = new SqliteWriter(connection, 16, () => { }, NullLogger.Instance, stopWait: TimeSpan.FromMilliseconds(1));
        await writer.WriteAsync(c => c.Command("CREATE TABLE t (v INTEGER)").ExecuteNonQuery(), default);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        // A write that is still going (as one waiting for another process's lock would be) when the store is disposed.
        var slow = writer.WriteAsync(c =>
        {
            started.Set();
            release.Wait();
            return c.Command("INSERT INTO t VALUES (7)").ExecuteNonQuery();
        }, default);
        started.Wait(TestContext.Current.CancellationToken);
        writer.Dispose();
        release.Set();

        Assert.Equal(1, await slow);
        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var count = check.CreateCommand();
        count.CommandText = "SELECT count(*) FROM t";
        Assert.Equal(1L, count.ExecuteScalar());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.WriteAsync(c => 0, default));
    }
}
