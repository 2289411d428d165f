using Npgsql;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Postgres.Internal;

namespace TypedJobs.Storage.Postgres.Tests;

/// <summary>
/// A fresh schema per test in the database of <c>TYPEDJOBS_TEST_POSTGRES</c>; every open is another store (its own pool)
/// on that schema, as another process would be. A store opened with the system clock uses the server's <c>now()</c>; any
/// other clock is bound as the store's clock.
/// </summary>
public sealed class PostgresStorageFactory : IStorageFactory
{
    private readonly List<PostgresStorage> opened = [];

    public PostgresStorageFactory()
    {
        ConnectionString = PostgresTestServer.ConnectionString;
        Schema = PostgresTestServer.NewSchemaName();
    }

    public string ConnectionString { get; }

    public string Schema { get; }

    // A short hot-path timeout lets the engine tests use short leases (a lease must outlast a heartbeat plus two timeouts).
    public PostgresStorageOptions Options() => new() { ConnectionString = ConnectionString, Schema = Schema, HotPathTimeout = TimeSpan.FromSeconds(1) };

    public ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var storage = new PostgresStorage(Options(), ReferenceEquals(timeProvider, TimeProvider.System) ? null : timeProvider);
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

        await PostgresTestServer.DropSchemaAsync(Schema);
    }
}

public sealed class PostgresInsertTests : InsertTests<PostgresStorageFactory>;

public sealed class PostgresClaimTests : ClaimTests<PostgresStorageFactory>;

public sealed class PostgresLeaseTests : LeaseTests<PostgresStorageFactory>;

public sealed class PostgresRescueTests : RescueTests<PostgresStorageFactory>;

public sealed class PostgresCompletionTests : CompletionTests<PostgresStorageFactory>;

public sealed class PostgresQueueTests : QueueTests<PostgresStorageFactory>;

public sealed class PostgresAdminQueryTests : AdminQueryTests<PostgresStorageFactory>;

public sealed class PostgresPruneTests : PruneTests<PostgresStorageFactory>;

public sealed class PostgresLockTests : LockTests<PostgresStorageFactory>;

public sealed class PostgresScheduleTests : ScheduleTests<PostgresStorageFactory>;

public sealed class PostgresResultTests : ResultTests<PostgresStorageFactory>;

public sealed class PostgresEventTests : EventTests<PostgresStorageFactory>;

public sealed class PostgresMigrationTests : MigrationTests<PostgresStorageFactory>;

public sealed class PostgresBadDataTests : BadDataTests<PostgresStorageFactory>;

public sealed class PostgresConcurrencyTests : ConcurrencyTests<PostgresStorageFactory>;

public sealed class PostgresAdminActionTests : AdminActionTests<PostgresStorageFactory>;

public sealed class PostgresEngineTests : EngineTests<PostgresStorageFactory>;
