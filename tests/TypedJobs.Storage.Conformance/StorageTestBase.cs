namespace TypedJobs.Storage.Conformance;

/// <summary>The four roles of one opened store.</summary>
public sealed record StoreHandle(IJobStore Jobs, IResultStore Results, IEventStore Events, IScheduleStore Schedules);

/// <summary>
/// Base of every conformance class: opens a fresh store per test on a <see cref="FakeClock"/>, initializes it, and
/// offers small helpers that seed data through the storage interfaces only.
/// </summary>
public abstract class StorageTestBase<TFactory> : IAsyncLifetime
    where TFactory : IStorageFactory, new()
{
    /// <summary>The lease used by helpers unless a test says otherwise.</summary>
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly TFactory factory = new();

    /// <summary>The store's clock.</summary>
    protected FakeClock Clock { get; } = new();

    /// <summary>The backend factory of this test.</summary>
    protected TFactory Factory => factory;

    /// <summary>The store opened for this test.</summary>
    protected StoreHandle Store { get; private set; } = null!;

    protected IJobStore Jobs => Store.Jobs;

    protected IResultStore Results => Store.Results;

    protected IEventStore Events => Store.Events;

    protected IScheduleStore Schedules => Store.Schedules;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected DateTimeOffset Now => Clock.GetUtcNow();

    public virtual async ValueTask InitializeAsync()
    {
        Store = await OpenStoreAsync().ConfigureAwait(false);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await factory.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens (another handle on) this test's database and initializes every role.</summary>
    protected async Task<StoreHandle> OpenStoreAsync(TimeProvider? timeProvider = null)
    {
        var store = await factory.OpenAsync(timeProvider ?? Clock, Ct).ConfigureAwait(false);
        var handle = new StoreHandle(Role<IJobStore>(store), Role<IResultStore>(store), Role<IEventStore>(store), Role<IScheduleStore>(store));
        await InitializeAllAsync(handle).ConfigureAwait(false);
        return handle;
    }

    protected static async Task InitializeAllAsync(StoreHandle handle)
    {
        await handle.Jobs.InitializeAsync(Ct).ConfigureAwait(false);
        await handle.Results.InitializeAsync(Ct).ConfigureAwait(false);
        await handle.Events.InitializeAsync(Ct).ConfigureAwait(false);
        await handle.Schedules.InitializeAsync(Ct).ConfigureAwait(false);
    }

    private static T Role<T>(object store)
        where T : class =>
        store as T ?? throw new InvalidOperationException($"{store.GetType().Name} does not implement {typeof(T).Name}.");

    protected static JobInsert NewJob(string queue = "default", string task = "task", Priority priority = Priority.Normal,
        DateTimeOffset? runAt = null, TimeSpan? delay = null, string? uniqueKey = null, int maxRetries = 3, byte[]? payload = null,
        bool uniqueUntilPruned = false) => new()
        {
            Id = JobId.New(),
            TaskName = task,
            Queue = queue,
            Priority = priority,
            Payload = payload ?? "{}"u8.ToArray(),
            MaxRetries = maxRetries,
            RunAt = runAt,
            Delay = delay,
            UniqueKey = uniqueKey,
            UniqueUntilPruned = uniqueUntilPruned,
        };

    protected async Task<IReadOnlyList<JobInsertOutcome>> InsertAsync(params JobInsert[] jobs)
    {
        var result = await Jobs.JobsInsertAsync(new JobsInsertParams(jobs), Ct).ConfigureAwait(false);
        Assert.Equal(jobs.Length, result.Outcomes.Count);
        return result.Outcomes;
    }

    protected async Task<JobId> InsertOneAsync(JobInsert job) => (await InsertAsync(job).ConfigureAwait(false))[0].Id;

    protected async Task<JobId[]> InsertManyAsync(int count, string queue = "default", string task = "task")
    {
        var jobs = Enumerable.Range(0, count).Select(_ => NewJob(queue, task)).ToArray();
        await InsertAsync(jobs).ConfigureAwait(false);
        return jobs.Select(j => j.Id).ToArray();
    }

    protected async Task<IReadOnlyList<JobRecord>> ClaimAsync(int max = 10, string queue = "default", TimeSpan? lease = null,
        string worker = "worker-1", IReadOnlyDictionary<string, int>? taskLimits = null, IJobStore? store = null)
    {
        var result = await (store ?? Jobs).JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = worker,
            Queues = [new QueueClaim(queue, max)],
            Max = max,
            LeaseDuration = lease ?? Lease,
            TaskLimits = taskLimits,
        }, Ct).ConfigureAwait(false);
        return result.Jobs;
    }

    protected async Task<JobRecord> ClaimOneAsync(string queue = "default", TimeSpan? lease = null, string worker = "worker-1")
    {
        var jobs = await ClaimAsync(1, queue, lease, worker).ConfigureAwait(false);
        return Assert.Single(jobs);
    }

    protected async Task<bool> CompleteAsync(JobRecord job, CompletionKind kind, TimeSpan delay = default, string? error = null,
        Guid? token = null)
    {
        var result = await Jobs.JobsCompleteAsync(new JobsCompleteParams([new JobCompletion
        {
            Id = job.Id,
            LeaseToken = token ?? job.LeaseToken!.Value,
            Kind = kind,
            Delay = delay,
            Error = error,
        }]), Ct).ConfigureAwait(false);
        return Assert.Single(result.Applied);
    }

    protected async Task<JobRecord> GetAsync(JobId id)
    {
        var job = await Jobs.JobsGetAsync(id, Ct).ConfigureAwait(false);
        Assert.NotNull(job);
        return job;
    }

    protected async Task<QueueInfo?> QueueAsync(string name)
    {
        var queues = await Jobs.QueuesListAsync(Ct).ConfigureAwait(false);
        return queues.SingleOrDefault(q => q.Name == name);
    }

    /// <summary>
    /// Inserts a job and takes it through claim and completion to a finished state. Other ready jobs of the queue are
    /// claimed on the way (and left running), so call it before seeding waiting jobs in the same queue.
    /// </summary>
    protected async Task<JobId> FinishedJobAsync(JobState state, string queue = "default", string? uniqueKey = null, bool uniqueUntilPruned = false)
    {
        var id = await InsertOneAsync(NewJob(queue, uniqueKey: uniqueKey, uniqueUntilPruned: uniqueUntilPruned)).ConfigureAwait(false);
        var claimed = (await ClaimAsync(100, queue).ConfigureAwait(false)).Single(j => j.Id == id);
        var kind = state switch
        {
            JobState.Succeeded => CompletionKind.Succeeded,
            JobState.Dead => CompletionKind.Dead,
            JobState.Cancelled => CompletionKind.Cancelled,
            _ => throw new ArgumentOutOfRangeException(nameof(state)),
        };
        Assert.True(await CompleteAsync(claimed, kind, error: kind == CompletionKind.Succeeded ? null : "failed").ConfigureAwait(false));
        return id;
    }
}
