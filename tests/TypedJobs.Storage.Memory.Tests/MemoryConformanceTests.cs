using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Files;
using TypedJobs.Storage.Memory;

namespace TypedJobs.Storage.Memory.Tests;

/// <summary>
/// The in-memory backend: one instance holds the whole "database", so every open on the same clock returns it (a store
/// on another clock is another instance).
/// </summary>
public sealed class MemoryStorageFactory : IStorageFactory
{
    private readonly Dictionary<TimeProvider, MemoryStorage> storages = new(ReferenceEqualityComparer.Instance);

    public ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        lock (storages)
        {
            if (!storages.TryGetValue(timeProvider, out var storage))
            {
                storages.Add(timeProvider, storage = new MemoryStorage(timeProvider));
            }

            return ValueTask.FromResult<object>(storage);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

public sealed class MemoryInsertTests : InsertTests<MemoryStorageFactory>;

public sealed class MemoryClaimTests : ClaimTests<MemoryStorageFactory>;

public sealed class MemoryLeaseTests : LeaseTests<MemoryStorageFactory>;

public sealed class MemoryRescueTests : RescueTests<MemoryStorageFactory>;

public sealed class MemoryCompletionTests : CompletionTests<MemoryStorageFactory>;

public sealed class MemoryQueueTests : QueueTests<MemoryStorageFactory>;

public sealed class MemoryAdminQueryTests : AdminQueryTests<MemoryStorageFactory>;

public sealed class MemoryPruneTests : PruneTests<MemoryStorageFactory>;

public sealed class MemoryLockTests : LockTests<MemoryStorageFactory>;

public sealed class MemoryScheduleTests : ScheduleTests<MemoryStorageFactory>;

public sealed class MemoryResultTests : ResultTests<MemoryStorageFactory>;

public sealed class MemoryEventTests : EventTests<MemoryStorageFactory>;

public sealed class MemoryMigrationTests : MigrationTests<MemoryStorageFactory>;

public sealed class MemoryBadDataTests : BadDataTests<MemoryStorageFactory>;

public sealed class MemoryConcurrencyTests : ConcurrencyTests<MemoryStorageFactory>;

public sealed class MemoryAdminActionTests : AdminActionTests<MemoryStorageFactory>;

public sealed class MemoryEngineTests : EngineTests<MemoryStorageFactory>;

/// <summary>The file results backend: one directory per test; every open is another store on it, as another process would see it.</summary>
public sealed class FileStorageFactory : IStorageFactory
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "typedjobs-files-" + Guid.NewGuid().ToString("N"));

    public ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken) =>
        ValueTask.FromResult<object>(new FileResultStore(new FileResultStoreOptions { Directory = directory }, timeProvider));

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>The results role on files: the results area of the conformance suite (the backend holds no other role).</summary>
public sealed class FileResultTests : ResultTests<FileStorageFactory>;
