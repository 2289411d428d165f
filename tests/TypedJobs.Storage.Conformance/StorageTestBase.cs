namespace TypedJobs.Storage.Conformance;

/// <summary>The roles of one opened store: the jobs role (hot path, administration, locks), results, events and schedules.</summary>
public sealed record StoreHandle(IJobStore Jobs, IJobAdminStore Admin, ILockStore Locks, IResultStore Results, IEventStore Events,
    IScheduleStore Schedules);

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

    protected IJobAdminStore Admin => Store.Admin;

    protected ILockStore Locks => Store.Locks;

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
        var handle = new StoreHandle(Role<IJobStore>(store), Role<IJobAdminStore>(store), Role<ILockStore>(store), Role<IResultStore>(store),
            Role<IEventStore>(store), Role<IScheduleStore>(store));
        await InitializeAllAsync(handle).ConfigureAwait(false);
        return handle;
    }

    protected static async Task InitializeAllAsync(StoreHandle handle)
    {
        // A backend that holds several roles is one object: initialize each distinct object once.
        var roles = new IStorageRole?[] { handle.Jobs, handle.Results, handle.Events, handle.Schedules };
        foreach (var role in roles.OfType<IStorageRole>().Distinct(ReferenceEqualityComparer.Instance).Cast<IStorageRole>())
        {
            await role.InitializeAsync(Ct).ConfigureAwait(false);
        }
    }

    /// <summary>The role interface, or null for a backend that holds only some roles (only the areas of its roles run on it).</summary>
    private static T Role<T>(object store)
        where T : class => (store as T)!;

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

    /// <summary>Applies one decided completion of <paramref name="job"/>'s current lease (or <paramref name="token"/>) and returns whether it applied.</summary>
    protected async Task<bool> CompleteAsync(JobRecord job, JobState target, TimeSpan? delay = null, string? error = null,
        int attemptDelta = 0, Guid? token = null, byte[]? result = null, TimeSpan resultTtl = default, bool failed = false,
        bool markUnknown = false, IJobStore? store = null)
    {
        var applied = await (store ?? Jobs).JobsCompleteAsync(new JobsCompleteParams([new JobCompletion
        {
            Job = job.Ref,
            LeaseToken = token ?? job.LeaseToken!.Value,
            TargetState = target,
            Delay = delay,
            AttemptDelta = attemptDelta,
            Error = error,
            Failed = failed,
            Result = result,
            ResultTtl = resultTtl,
            MarkUnknownTask = markUnknown,
        }]), Ct).ConfigureAwait(false);
        return Assert.Single(applied.Applied);
    }

    protected async Task<JobRecord> GetAsync(JobId id)
    {
        var job = await FindAsync(id).ConfigureAwait(false);
        Assert.NotNull(job);
        return job;
    }

    protected async Task<JobRecord?> FindAsync(JobId id) =>
        (await Admin.JobsGetAsync(new JobsGetParams(id), Ct).ConfigureAwait(false)).Job;

    /// <summary>The job's reference, found through <see cref="IJobAdminStore.JobsLocateAsync"/>; a missing job gets a reference to queue "default".</summary>
    protected async Task<JobRef> RefAsync(JobId id)
    {
        var located = await Admin.JobsLocateAsync(new JobsLocateParams([id]), Ct).ConfigureAwait(false);
        return located.Jobs.Count == 1 ? located.Jobs[0] : new JobRef(id, "default");
    }

    protected async Task<JobsCancelResult> CancelJobAsync(JobId id) =>
        await Admin.JobsCancelAsync(new JobsCancelParams(await RefAsync(id).ConfigureAwait(false)), Ct).ConfigureAwait(false);

    protected async Task<bool> RetryJobAsync(JobId id) =>
        (await Admin.JobsRetryAsync(new JobsRetryParams(await RefAsync(id).ConfigureAwait(false)), Ct).ConfigureAwait(false)).Retried;

    protected async Task<bool> DeleteJobAsync(JobId id) =>
        (await Admin.JobsDeleteAsync(new JobsDeleteParams(await RefAsync(id).ConfigureAwait(false)), Ct).ConfigureAwait(false)).Deleted;

    protected async Task<IReadOnlyList<QueueInfo>> QueuesAsync() =>
        (await Admin.QueuesListAsync(new QueuesListParams(), Ct).ConfigureAwait(false)).Queues;

    protected async Task<QueueInfo?> QueueAsync(string name) => (await QueuesAsync().ConfigureAwait(false)).SingleOrDefault(q => q.Name == name);

    protected async Task<int> PruneAsync(IReadOnlyList<JobState> states, TimeSpan olderThan, int max = 10_000) =>
        (await Admin.JobsPruneAsync(new JobsPruneParams(states, olderThan, max), Ct).ConfigureAwait(false)).Deleted;

    /// <summary>
    /// Inserts a job and takes it through claim and completion to a finished state. Other ready jobs of the queue are
    /// claimed on the way (and left running), so call it before seeding waiting jobs in the same queue.
    /// </summary>
    protected async Task<JobId> FinishedJobAsync(JobState state, string queue = "default", string? uniqueKey = null, bool uniqueUntilPruned = false)
    {
        var id = await InsertOneAsync(NewJob(queue, uniqueKey: uniqueKey, uniqueUntilPruned: uniqueUntilPruned)).ConfigureAwait(false);
        var claimed = (await ClaimAsync(100, queue).ConfigureAwait(false)).Single(j => j.Id == id);
        Assert.True(state.IsFinished());
        Assert.True(await CompleteAsync(claimed, state, error: state == JobState.Succeeded ? null : "failed").ConfigureAwait(false));
        return id;
    }
}
