namespace TypedJobs.Storage;

/// <summary>
/// The jobs role, hot path: insert, claim, complete, extend leases, rescue, report progress and wait for work. The
/// engine decides every state change and the store applies it: a completion carries the decided target state,
/// delay, attempt adjustment, error and result, and the store applies it only where the lease token still matches.
/// Rescue is the one rule a store evaluates itself. The jobs role never touches another role's data, and every time
/// comparison uses the store's clock. The rules, each with the conformance test that proves it, are in
/// <c>docs/storage-backends.md</c>.
/// </summary>
public interface IJobStore : IStorageRole
{
    /// <summary>
    /// The longest a hot-path call (insert, claim, complete, extend, rescue) may wait on the backend — a busy lock, a
    /// command timeout — before it fails. Workers validate at startup that their lease is comfortably longer, so a worker
    /// that cannot write learns it while its leases still hold; migrations, bulk work and administration have their own,
    /// longer timeouts.
    /// </summary>
    TimeSpan HotPathTimeout { get; }

    /// <summary>
    /// Inserts a batch atomically: all jobs or none. A unique key that a job of the same queue holds returns that
    /// job's id (and inserts nothing for it); an id that already exists fails the whole batch.
    /// </summary>
    ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically moves up to <see cref="JobsClaimParams.Max"/> due jobs of the given, non-paused queues to Running,
    /// in claim order (priority, then due time, then insertion), counting an attempt and giving each a fresh lease
    /// token that expires after the lease duration by the store's clock. Two claimers never hold live leases on one job.
    /// </summary>
    ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken);

    /// <summary>Applies decided outcomes, each only where its lease token still matches, and reports which ones applied.</summary>
    ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken);

    /// <summary>Extends the given leases in one call and reports the ones that no longer match.</summary>
    ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Returns running jobs whose lease expired to Ready, or to Dead when no attempt is left (attempt &gt; max retries),
    /// re-checking state and expiry in the same atomic step, so a job is rescued once however many rescuers race.
    /// </summary>
    ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken);

    /// <summary>Records the progress running attempts reported, each only where its lease token still matches.</summary>
    ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Completes when new jobs may be available in one of the queues (or at cancellation). Callers always combine it
    /// with a poll timeout: a store may wake spuriously and may miss jobs inserted by other processes.
    /// </summary>
    ValueTask JobsWaitAsync(JobsWaitParams parameters, CancellationToken cancellationToken);
}

/// <summary>What happened to one inserted job.</summary>
/// <param name="Id">The new job's id, or the existing job's id when deduplicated.</param>
/// <param name="Inserted"><see langword="false"/> when a job of the queue already held the unique key.</param>
public readonly record struct JobInsertOutcome(JobId Id, bool Inserted);

/// <summary>Parameters of <see cref="IJobStore.JobsInsertAsync"/>.</summary>
/// <param name="Jobs">The jobs, inserted atomically as one batch.</param>
public sealed record JobsInsertParams(IReadOnlyList<JobInsert> Jobs);

/// <summary>Result of <see cref="IJobStore.JobsInsertAsync"/>.</summary>
/// <param name="Outcomes">One outcome per job, in input order.</param>
public sealed record JobsInsertResult(IReadOnlyList<JobInsertOutcome> Outcomes);

/// <summary>A queue to claim from, with the most jobs to take from it.</summary>
/// <param name="Name">The queue name.</param>
/// <param name="Max">The most jobs to claim from this queue in this call.</param>
public readonly record struct QueueClaim(string Name, int Max);

/// <summary>Parameters of <see cref="IJobStore.JobsClaimAsync"/>.</summary>
public sealed record JobsClaimParams
{
    /// <summary>The claiming worker.</summary>
    public required string WorkerId { get; init; }

    /// <summary>The queues to claim from. Paused queues are skipped by the store.</summary>
    public required IReadOnlyList<QueueClaim> Queues { get; init; }

    /// <summary>The most jobs to claim in total.</summary>
    public required int Max { get; init; }

    /// <summary>How long the lease lasts, from the store's clock.</summary>
    public required TimeSpan LeaseDuration { get; init; }

    /// <summary>
    /// Per-task caps for this call (task name → most jobs of that task to claim); a task at 0 is not claimed, and
    /// jobs of other tasks behind it are claimed instead. Tasks not listed are not capped. The engine computes the
    /// caps from what it runs; the store only applies them.
    /// </summary>
    public IReadOnlyDictionary<string, int>? TaskLimits { get; init; }
}

/// <summary>Result of <see cref="IJobStore.JobsClaimAsync"/>.</summary>
/// <param name="Jobs">The claimed jobs, Running, each with a fresh lease token, in claim order.</param>
/// <param name="NextDueIn">
/// When fewer jobs than asked for were claimed: how long (by the store's clock) until the earliest waiting job of the
/// claimed queues becomes due, if the store knows cheaply.
/// </param>
public sealed record JobsClaimResult(IReadOnlyList<JobRecord> Jobs, TimeSpan? NextDueIn);

/// <summary>
/// The outcome of one attempt as the engine decided it, applied by the store only while <see cref="LeaseToken"/>
/// still matches. The store interprets nothing: it moves the job to <see cref="TargetState"/> with the given values.
/// </summary>
public readonly record struct JobCompletion
{
    /// <summary>The job.</summary>
    public required JobRef Job { get; init; }

    /// <summary>The lease token the attempt was claimed with.</summary>
    public required Guid LeaseToken { get; init; }

    /// <summary>
    /// Where the job goes: <see cref="JobState.Succeeded"/>, <see cref="JobState.Dead"/> or
    /// <see cref="JobState.Cancelled"/> (final: the finish time is set, the lease dropped, a unique key released unless
    /// kept until pruned), or <see cref="JobState.Ready"/> (waiting again; <see cref="JobState.Scheduled"/> means the
    /// same) with the due time from <see cref="Delay"/>.
    /// </summary>
    public required JobState TargetState { get; init; }

    /// <summary>For a waiting target: due this long after the store's now; <see langword="null"/> keeps the job's due time.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Added to the attempt count: 0, or -1 to give the attempt back (snooze, release at shutdown, unknown task).</summary>
    public int AttemptDelta { get; init; }

    /// <summary>The job's new last error; <see langword="null"/> keeps the previous one.</summary>
    public string? Error { get; init; }

    /// <summary>Whether the attempt failed (counted in the failed-per-minute statistics).</summary>
    public bool Failed { get; init; }

    /// <summary>
    /// The result of a succeeded attempt, written in the same atomic step as this completion. The engine sets it only
    /// when this store also holds the results role; otherwise it writes the result to the results role, keyed by the
    /// job and <see cref="LeaseToken"/>, before it completes.
    /// </summary>
    public byte[]? Result { get; init; }

    /// <summary>How long <see cref="Result"/> is kept, from the store's clock.</summary>
    public TimeSpan ResultTtl { get; init; }

    /// <summary>Record now (by the store's clock) as <see cref="JobRecord.UnknownTaskSince"/>, unless it is already set.</summary>
    public bool MarkUnknownTask { get; init; }
}

/// <summary>Parameters of <see cref="IJobStore.JobsCompleteAsync"/>.</summary>
/// <param name="Completions">The outcomes to apply.</param>
public sealed record JobsCompleteParams(IReadOnlyList<JobCompletion> Completions);

/// <summary>Result of <see cref="IJobStore.JobsCompleteAsync"/>.</summary>
/// <param name="Applied">
/// Per completion, in input order: <see langword="false"/> when the lease token no longer matched (nothing was written).
/// A store that can apply part of a batch (one script per queue) answers <see langword="true"/> again for a completion it
/// already applied — the same lease token and target state — when the batch is sent again after a call that failed.
/// </param>
public sealed record JobsCompleteResult(IReadOnlyList<bool> Applied);

/// <summary>A lease held by a worker.</summary>
/// <param name="Job">The job.</param>
/// <param name="LeaseToken">The lease token.</param>
public readonly record struct JobLease(JobRef Job, Guid LeaseToken);

/// <summary>Parameters of <see cref="IJobStore.LeasesExtendAsync"/>.</summary>
/// <param name="WorkerId">The worker.</param>
/// <param name="Leases">The leases to extend (every lease the worker holds).</param>
/// <param name="LeaseDuration">The new lease length from the store's clock.</param>
public sealed record LeasesExtendParams(string WorkerId, IReadOnlyList<JobLease> Leases, TimeSpan LeaseDuration);

/// <summary>Result of <see cref="IJobStore.LeasesExtendAsync"/>.</summary>
/// <param name="Lost">Leases that no longer match (rescued, cancelled, deleted or finished); the worker must stop those attempts.</param>
public sealed record LeasesExtendResult(IReadOnlyList<JobLease> Lost);

/// <summary>Parameters of <see cref="IJobStore.JobsRescueAsync"/>.</summary>
/// <param name="Max">The most jobs to rescue in one call.</param>
public sealed record JobsRescueParams(int Max);

/// <summary>A job whose lease expired.</summary>
/// <param name="Job">The job.</param>
/// <param name="TaskName">Its task.</param>
/// <param name="Attempt">Attempts started so far.</param>
/// <param name="NewState"><see cref="JobState.Ready"/>, or <see cref="JobState.Dead"/> when no attempt was left.</param>
/// <param name="WorkerId">The worker whose lease expired.</param>
public readonly record struct RescuedJob(JobRef Job, string TaskName, int Attempt, JobState NewState, string? WorkerId);

/// <summary>Result of <see cref="IJobStore.JobsRescueAsync"/>.</summary>
/// <param name="Jobs">The rescued jobs.</param>
public sealed record JobsRescueResult(IReadOnlyList<RescuedJob> Jobs);

/// <summary>Progress reported by a running attempt.</summary>
/// <param name="Lease">The attempt's lease.</param>
/// <param name="Progress">From 0 to 1.</param>
/// <param name="Message">A short description, or <see langword="null"/>.</param>
public readonly record struct JobProgress(JobLease Lease, double Progress, string? Message);

/// <summary>Parameters of <see cref="IJobStore.JobsProgressAsync"/>.</summary>
/// <param name="Updates">The latest progress of each attempt.</param>
public sealed record JobsProgressParams(IReadOnlyList<JobProgress> Updates);

/// <summary>Result of <see cref="IJobStore.JobsProgressAsync"/>.</summary>
/// <param name="Applied">Per update, in input order: <see langword="false"/> when the lease token no longer matched.</param>
public sealed record JobsProgressResult(IReadOnlyList<bool> Applied);

/// <summary>Parameters of <see cref="IJobStore.JobsWaitAsync"/>.</summary>
/// <param name="Queues">The queues the waiting worker serves.</param>
public sealed record JobsWaitParams(IReadOnlyList<string> Queues);
