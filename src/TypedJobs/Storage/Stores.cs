namespace TypedJobs.Storage;

/// <summary>What a backend can do beyond the required semantics.</summary>
[Flags]
public enum StorageCapabilities
{
    /// <summary>Only the required semantics.</summary>
    None = 0,

    /// <summary>Signals waiting workers when jobs arrive from any process (otherwise: this process only, plus polling).</summary>
    CrossProcessWakeUp = 1,

    /// <summary>Jobs can be inserted inside the caller's own database transaction.</summary>
    TransactionalEnqueue = 2,

    /// <summary>The data survives a restart of the process.</summary>
    Durable = 4,
}

/// <summary>
/// The jobs storage role: the queue and every job's lifecycle. Every write about a running job is fenced by
/// its lease token; times such as due times and lease expiry come from the store's own clock.
/// </summary>
public interface IJobStore
{
    /// <summary>What the backend can do.</summary>
    StorageCapabilities Capabilities { get; }

    /// <summary>Creates or migrates the schema; safe to call concurrently from several processes.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Inserts a batch atomically; a unique key that is taken returns the existing id.</summary>
    ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken);

    /// <summary>Moves up to <see cref="JobsClaimParams.Max"/> due jobs to Running in claim order (priority, due time, insertion).</summary>
    ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken);

    /// <summary>Writes the outcomes of attempts, each only if its lease token still matches.</summary>
    ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken);

    /// <summary>Extends all leases of one worker in one call and reports the ones it lost.</summary>
    ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken);

    /// <summary>Returns running jobs whose lease expired to Ready (or Dead when attempts are exhausted), re-checking state and expiry atomically.</summary>
    ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken);

    /// <summary>Completes when new jobs may be available in one of <paramref name="queues"/>. Callers always combine it with a poll timeout.</summary>
    ValueTask JobsWaitAsync(IReadOnlyCollection<string> queues, CancellationToken cancellationToken);

    /// <summary>Gets one job.</summary>
    ValueTask<JobRecord?> JobsGetAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Lists jobs, newest first, with filters and cursor paging.</summary>
    ValueTask<JobsListResult> JobsListAsync(JobsListParams parameters, CancellationToken cancellationToken);

    /// <summary>Cancels a job that has not finished. A running job loses its lease, so its worker stops it at the next heartbeat.</summary>
    ValueTask<JobCancelResult> JobsCancelAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Returns a dead or cancelled job to Ready with its attempts reset. Returns <see langword="false"/> for other states.</summary>
    ValueTask<bool> JobsRetryAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Deletes a job in any state.</summary>
    ValueTask<bool> JobsDeleteAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Deletes finished jobs older than a cut-off and returns how many.</summary>
    ValueTask<int> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken);

    /// <summary>Lists every queue that has jobs or is paused, with per-state counts.</summary>
    ValueTask<IReadOnlyList<QueueInfo>> QueuesListAsync(CancellationToken cancellationToken);

    /// <summary>Pauses a queue: workers claim nothing from it until it is resumed.</summary>
    ValueTask QueuesPauseAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Resumes a paused queue.</summary>
    ValueTask QueuesResumeAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Deletes every waiting (scheduled or ready) job of a queue and returns how many.</summary>
    ValueTask<int> QueuesClearAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Takes (or, by the same owner, extends) a named lock with a time to live.</summary>
    ValueTask<bool> LocksAcquireAsync(LockAcquireParams parameters, CancellationToken cancellationToken);

    /// <summary>Releases a lock held by <paramref name="owner"/>.</summary>
    ValueTask<bool> LocksReleaseAsync(string name, string owner, CancellationToken cancellationToken);
}

/// <summary>A stored job result.</summary>
/// <param name="Value">The serialized result.</param>
/// <param name="ExpiresAt">When it is pruned.</param>
public sealed record StoredResult(byte[] Value, DateTimeOffset ExpiresAt);

/// <summary>A result to store.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Value">The serialized result.</param>
/// <param name="Ttl">How long to keep it.</param>
public readonly record struct ResultWrite(JobId JobId, byte[] Value, TimeSpan Ttl);

/// <summary>The results storage role.</summary>
public interface IResultStore
{
    /// <summary>Creates or migrates the schema.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores results (overwriting an earlier result of the same job).</summary>
    ValueTask ResultsSetAsync(IReadOnlyList<ResultWrite> results, CancellationToken cancellationToken);

    /// <summary>Gets a result that has not expired.</summary>
    ValueTask<StoredResult?> ResultsGetAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Deletes expired results and returns how many.</summary>
    ValueTask<int> ResultsPruneAsync(CancellationToken cancellationToken);
}

/// <summary>Parameters of <see cref="IEventStore.EventsListAsync"/>.</summary>
/// <param name="JobId">Only events of this job.</param>
/// <param name="Limit">The most events, oldest first.</param>
public sealed record EventsListParams(JobId? JobId = null, int Limit = 100);

/// <summary>The events storage role: a history of lifecycle events.</summary>
public interface IEventStore
{
    /// <summary>Creates or migrates the schema.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Appends events.</summary>
    ValueTask EventsAppendAsync(IReadOnlyList<Events.JobEvent> events, CancellationToken cancellationToken);

    /// <summary>Lists events, oldest first.</summary>
    ValueTask<IReadOnlyList<Events.JobEvent>> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes events older than <paramref name="before"/> and returns how many.</summary>
    ValueTask<int> EventsPruneAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>A recurring schedule as stored.</summary>
public sealed record ScheduleRecord
{
    /// <summary>The schedule's unique name.</summary>
    public required string Name { get; init; }

    /// <summary>The task each occurrence enqueues.</summary>
    public required string TaskName { get; init; }

    /// <summary>A cron expression, or <see langword="null"/> for an interval schedule.</summary>
    public string? Cron { get; init; }

    /// <summary>The interval, or <see langword="null"/> for a cron schedule.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The IANA time zone of <see cref="Cron"/>.</summary>
    public string? TimeZone { get; init; }

    /// <summary>Stored arguments; <see langword="null"/> uses the task's parameter defaults.</summary>
    public byte[]? Payload { get; init; }

    /// <summary>Whether occurrences are skipped.</summary>
    public bool Paused { get; init; }

    /// <summary>The next occurrence to enqueue.</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>The last occurrence enqueued.</summary>
    public DateTimeOffset? LastRunAt { get; init; }

    /// <summary>Whether the schedule was declared in code (<see langword="true"/>) or added at run time.</summary>
    public bool Declared { get; init; }

    /// <summary>A version that changes with every write, for optimistic updates.</summary>
    public long Version { get; init; }
}

/// <summary>The schedules storage role.</summary>
public interface IScheduleStore
{
    /// <summary>Creates or migrates the schema.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a schedule; returns the stored record.</summary>
    ValueTask<ScheduleRecord> SchedulesUpsertAsync(ScheduleRecord schedule, CancellationToken cancellationToken);

    /// <summary>Gets a schedule by name.</summary>
    ValueTask<ScheduleRecord?> SchedulesGetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Lists all schedules by name.</summary>
    ValueTask<IReadOnlyList<ScheduleRecord>> SchedulesListAsync(CancellationToken cancellationToken);

    /// <summary>Deletes a schedule.</summary>
    ValueTask<bool> SchedulesDeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a schedule forward only if it is still at <paramref name="expectedVersion"/> (optimistic concurrency);
    /// returns the updated record, or <see langword="null"/> when another instance moved it first.
    /// </summary>
    ValueTask<ScheduleRecord?> SchedulesAdvanceAsync(string name, long expectedVersion, DateTimeOffset? lastRunAt,
        DateTimeOffset? nextRunAt, CancellationToken cancellationToken);

    /// <summary>Lists unpaused schedules whose next occurrence is at or before <paramref name="now"/>.</summary>
    ValueTask<IReadOnlyList<ScheduleRecord>> SchedulesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);
}
