using MySqlConnector;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.MySql.Internal;

namespace TypedJobs.Storage.MySql.Tests;

/// <summary>
/// A fresh database per test; every open is another store (another pool) on it, as another process would see it. A
/// store opened with <see cref="TimeProvider.System"/> runs on the server's clock; any other clock is bound as the
/// store's now, so tests can move time.
/// </summary>
public sealed class MySqlStorageFactory : IStorageFactory
{
    private readonly List<MySqlStorage> opened = [];
    private string? database;

    public string Database => database ??= MySqlTestServer.CreateDatabaseAsync().GetAwaiter().GetResult();

    public MySqlStorageOptions Options() => new()
    {
        ConnectionString = MySqlTestServer.For(Database, b => b.MaximumPoolSize = 50),
        // Short enough for the engine tests' four-second leases (a lease must outlast a heartbeat plus two timeouts).
        HotPathTimeout = TimeSpan.FromSeconds(1),
    };

    public ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var storage = new MySqlStorage(Options(), ReferenceEquals(timeProvider, TimeProvider.System) ? null : timeProvider);
        lock (opened)
        {
            opened.Add(storage);
        }

        return ValueTask.FromResult<object>(storage);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var storage in opened)
        {
            await storage.DisposeAsync();
        }

        if (database is not null)
        {
            MySqlConnection.ClearAllPools();
            await MySqlTestServer.DropDatabaseAsync(database);
        }
    }
}

public sealed class MySqlInsertTests : InsertTests<MySqlStorageFactory>;

public sealed class MySqlClaimTests : ClaimTests<MySqlStorageFactory>;

public sealed class MySqlLeaseTests : LeaseTests<MySqlStorageFactory>;

public sealed class MySqlRescueTests : RescueTests<MySqlStorageFactory>;

public sealed class MySqlCompletionTests : CompletionTests<MySqlStorageFactory>;

public sealed class MySqlQueueTests : QueueTests<MySqlStorageFactory>;

public sealed class MySqlAdminQueryTests : AdminQueryTests<MySqlStorageFactory>;

public sealed class MySqlPruneTests : PruneTests<MySqlStorageFactory>;

public sealed class MySqlLockTests : LockTests<MySqlStorageFactory>;

public sealed class MySqlScheduleTests : ScheduleTests<MySqlStorageFactory>;

public sealed class MySqlResultTests : ResultTests<MySqlStorageFactory>;

public sealed class MySqlEventTests : EventTests<MySqlStorageFactory>;

public sealed class MySqlMigrationTests : MigrationTests<MySqlStorageFactory>;

public sealed class MySqlBadDataTests : BadDataTests<MySqlStorageFactory>;

public sealed class MySqlConcurrencyTests : ConcurrencyTests<MySqlStorageFactory>;

public sealed class MySqlAdminActionTests : AdminActionTests<MySqlStorageFactory>;

public sealed class MySqlEngineTests : EngineTests<MySqlStorageFactory>;
