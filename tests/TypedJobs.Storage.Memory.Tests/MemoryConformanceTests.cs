using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Memory;

namespace TypedJobs.Storage.Memory.Tests;

/// <summary>The in-memory backend: one instance holds the whole "database", so every open returns it.</summary>
public sealed class MemoryStorageFactory : IStorageFactory
{
    private MemoryStorage? storage;


    public ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken) =>
        ValueTask.FromResult<object>(storage ??= new MemoryStorage(timeProvider));

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
