using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>A fresh database file in its own temp directory per test; every open is another store on that file.</summary>
public sealed class SqliteStorageFactory : IStorageFactory
{
    private readonly List<SqliteStorage> opened = [];

    public SqliteStorageFactory()
    {
        Directory = TempDirectory.Create();
    }

    public TempDirectory Directory { get; }

    public string DatabasePath => Path.Combine(Directory.Path, "jobs.db");

    public ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        // A short busy timeout lets the engine tests use short leases (a lease must outlast a heartbeat plus two timeouts).
        var storage = new SqliteStorage(new SqliteStorageOptions { ConnectionString = DatabasePath, BusyTimeout = TimeSpan.FromSeconds(1) }, timeProvider);
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

        Directory.Dispose();
    }
}

public sealed class SqliteInsertTests : InsertTests<SqliteStorageFactory>;

public sealed class SqliteClaimTests : ClaimTests<SqliteStorageFactory>;

public sealed class SqliteLeaseTests : LeaseTests<SqliteStorageFactory>;

public sealed class SqliteRescueTests : RescueTests<SqliteStorageFactory>;

public sealed class SqliteCompletionTests : CompletionTests<SqliteStorageFactory>;

public sealed class SqliteQueueTests : QueueTests<SqliteStorageFactory>;

public sealed class SqliteAdminQueryTests : AdminQueryTests<SqliteStorageFactory>;

public sealed class SqlitePruneTests : PruneTests<SqliteStorageFactory>;

public sealed class SqliteLockTests : LockTests<SqliteStorageFactory>;

public sealed class SqliteScheduleTests : ScheduleTests<SqliteStorageFactory>;

public sealed class SqliteResultTests : ResultTests<SqliteStorageFactory>;

public sealed class SqliteEventTests : EventTests<SqliteStorageFactory>;

public sealed class SqliteMigrationTests : MigrationTests<SqliteStorageFactory>;

public sealed class SqliteBadDataTests : BadDataTests<SqliteStorageFactory>;

public sealed class SqliteConcurrencyTests : ConcurrencyTests<SqliteStorageFactory>;

public sealed class SqliteAdminActionTests : AdminActionTests<SqliteStorageFactory>;

public sealed class SqliteEngineTests : EngineTests<SqliteStorageFactory>;
