using System.Reflection;
using MySqlConnector;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.MySql.Internal;

namespace TypedJobs.Storage.MySql.Tests;

/// <summary>
/// Faults that need the store's inside or a worker of their own: processes racing for the migration lock, and a claim
/// whose session is killed between its locking read and its update. The scenarios with whole workers — SIGKILL, a crash
/// and restart of MariaDB, sessions killed with KILL while workers run — are in the fault harness
/// (tests/TypedJobs.Faults, MySqlProcessFaultTests), checked for lost and duplicated jobs.
/// </summary>
public sealed class MySqlFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(180);
    private readonly List<string> databases = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        MySqlConnection.ClearAllPools();
        foreach (var database in databases)
        {
            await MySqlTestServer.DropDatabaseAsync(database);
        }
    }

    private static readonly string WorkerDll = typeof(MySqlFaultTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "WorkerDll").Value!;

    private static WorkerProcess Worker(params string[] arguments) => WorkerProcess.Start(WorkerDll, arguments);

    private async Task<string> DatabaseAsync()
    {
        var name = await MySqlTestServer.CreateDatabaseAsync("fault");
        databases.Add(name);
        return MySqlTestServer.For(name);
    }

    [Fact]
    public async Task SeveralProcessesStartingAtOnce_MigrateOnce()
    {
        // No TLS and a patient connect: six processes start at once on a machine that may be busy (TLS has its own test).
        var cs = new MySqlConnectionStringBuilder(await DatabaseAsync()) { SslMode = MySqlSslMode.None, ConnectionTimeout = 60 }.ConnectionString;
        var processes = Enumerable.Range(0, 6).Select(_ => Worker("--cs", cs, "--migrate-only")).ToArray();
        try
        {
            foreach (var process in processes)
            {
                Assert.True(await process.WaitForExitAsync(RunTimeout) == 0, $"Worker {process.Id} failed. Output:\n{process.Output}");
                Assert.Contains("migrated", process.Output);
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }

        Assert.Equal((long)MySqlSql.BuiltInSchemaVersion, Convert.ToInt64(await ScalarAsync(cs, "SELECT COUNT(*) FROM typedjobs_migrations")));
    }

    [Fact]
    public async Task ClaimWhoseSessionIsKilledBetweenItsReadAndItsUpdate_ClaimsNothing_AndTheJobsStayClaimable()
    {
        var cs = await DatabaseAsync();
        await using var store = new MySqlStorage(new MySqlStorageOptions { ConnectionString = cs });
        await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 5)
            .Select(_ => new JobInsert { Id = JobId.New(), TaskName = "t", Queue = "default", Payload = [1] }).ToArray()), Ct);
        var killed = 0;
        store.BetweenClaimReadAndUpdate = async thread =>
        {
            await using var admin = new MySqlConnection(MySqlTestServer.ConnectionString);
            await admin.OpenAsync(Ct);
            await using var kill = admin.CreateCommand();
            kill.CommandText = $"KILL {thread}";
            await kill.ExecuteNonQueryAsync(Ct);
            killed++;
        };
        var claim = new JobsClaimParams { WorkerId = "w", Queues = [new QueueClaim("default", 10)], Max = 10, LeaseDuration = TimeSpan.FromMinutes(1) };

        await Assert.ThrowsAnyAsync<Exception>(async () => await store.JobsClaimAsync(claim, Ct));
        var afterKill = await store.JobsListAsync(new JobsListParams(), Ct);
        store.BetweenClaimReadAndUpdate = null;
        var claimed = await store.JobsClaimAsync(claim, Ct);

        Assert.Equal(1, killed);
        Assert.All(afterKill.Jobs, j => Assert.Equal((JobState.Ready, 0, (Guid?)null), (j.State, j.Attempt, j.LeaseToken)));
        Assert.Equal(5, claimed.Jobs.Count);
        Assert.All(claimed.Jobs, j => Assert.Equal(1, j.Attempt));
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var connection = new MySqlConnection(cs);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }
}
