namespace TypedJobs.Storage;

/// <summary>
/// The jobs role, administration: reads, operator actions on jobs and queues, the worker registry and throughput
/// statistics. Everything the client's <c>IJobAdmin</c>, the admin API, the dashboard and the CLI need goes through
/// this interface.
/// </summary>
public interface IJobAdminStore : IStorageRole
{
    /// <summary>Gets one job by id (a sharded store may look the queue up in its id index).</summary>
    ValueTask<JobsGetResult> JobsGetAsync(JobsGetParams parameters, CancellationToken cancellationToken);

    /// <summary>Finds the references (id and queue) of jobs by id; ids that do not exist are left out.</summary>
    ValueTask<JobsLocateResult> JobsLocateAsync(JobsLocateParams parameters, CancellationToken cancellationToken);

    /// <summary>Lists jobs that match a filter, newest first, with cursor paging.</summary>
    ValueTask<JobsListResult> JobsListAsync(JobsListParams parameters, CancellationToken cancellationToken);

    /// <summary>Counts jobs that match a filter.</summary>
    ValueTask<JobsCountResult> JobsCountAsync(JobsCountParams parameters, CancellationToken cancellationToken);

    /// <summary>Cancels a job that has not finished. A running job loses its lease, so its worker stops it at the next heartbeat.</summary>
    ValueTask<JobsCancelResult> JobsCancelAsync(JobsCancelParams parameters, CancellationToken cancellationToken);

    /// <summary>Returns a dead or cancelled job to Ready with its attempts reset; other states are left alone.</summary>
    ValueTask<JobsRetryResult> JobsRetryAsync(JobsRetryParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes a job in any state (a running job's lease is gone with it); releases its unique key.</summary>
    ValueTask<JobsDeleteResult> JobsDeleteAsync(JobsDeleteParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Applies one action (retry, cancel, delete) to at most <see cref="JobsBulkParams.Max"/> jobs that match a filter
    /// and that the action applies to, atomically per job, and returns them. Callers repeat the call, each with the
    /// previous one's <see cref="JobsBulkResult.NextCursor"/>, until it returns fewer than the maximum; the calls together
    /// then read each job once, however many there are.
    /// </summary>
    ValueTask<JobsBulkResult> JobsBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes up to a maximum of finished jobs of the given states older than an age (by the store's clock).</summary>
    ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken);

    /// <summary>Lists every queue that has jobs or is paused, by name, with per-state counts.</summary>
    ValueTask<QueuesListResult> QueuesListAsync(QueuesListParams parameters, CancellationToken cancellationToken);

    /// <summary>Pauses a queue: nothing is claimed from it until it is resumed. Running jobs finish normally.</summary>
    ValueTask<QueuesPauseResult> QueuesPauseAsync(QueuesPauseParams parameters, CancellationToken cancellationToken);

    /// <summary>Resumes a paused queue.</summary>
    ValueTask<QueuesResumeResult> QueuesResumeAsync(QueuesResumeParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes every waiting (scheduled or ready) job of a queue, releasing their unique keys.</summary>
    ValueTask<QueuesClearResult> QueuesClearAsync(QueuesClearParams parameters, CancellationToken cancellationToken);

    /// <summary>Registers a worker or refreshes its entry; the store stamps the heartbeat with its clock.</summary>
    ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken);

    /// <summary>Lists the registered workers by id.</summary>
    ValueTask<WorkersListResult> WorkersListAsync(WorkersListParams parameters, CancellationToken cancellationToken);

    /// <summary>Removes a worker from the registry (at graceful shutdown).</summary>
    ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken);

    /// <summary>Removes workers whose last heartbeat is older than an age.</summary>
    ValueTask<WorkersPruneResult> WorkersPruneAsync(WorkersPruneParams parameters, CancellationToken cancellationToken);

    /// <summary>Succeeded and failed attempts per minute over a recent window, oldest first, with a bucket for every minute.</summary>
    ValueTask<StatsThroughputResult> StatsThroughputAsync(StatsThroughputParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes throughput buckets older than an age.</summary>
    ValueTask<StatsPruneResult> StatsPruneAsync(StatsPruneParams parameters, CancellationToken cancellationToken);
}

/// <summary>Parameters of <see cref="IJobAdminStore.JobsGetAsync"/>.</summary>
/// <param name="Id">The job.</param>
public sealed record JobsGetParams(JobId Id);

/// <summary>Result of <see cref="IJobAdminStore.JobsGetAsync"/>.</summary>
/// <param name="Job">The job, or <see langword="null"/> when it does not exist.</param>
public sealed record JobsGetResult(JobRecord? Job);

/// <summary>Parameters of <see cref="IJobAdminStore.JobsLocateAsync"/>.</summary>
/// <param name="Ids">The jobs to find.</param>
public sealed record JobsLocateParams(IReadOnlyList<JobId> Ids);

/// <summary>Result of <see cref="IJobAdminStore.JobsLocateAsync"/>.</summary>
/// <param name="Jobs">The references of the jobs that exist, in input order.</param>
public sealed record JobsLocateResult(IReadOnlyList<JobRef> Jobs);

/// <summary>Parameters of <see cref="IJobAdminStore.JobsListAsync"/>. Results are newest first.</summary>
public sealed record JobsListParams
{
    /// <summary>Which jobs to list.</summary>
    public JobFilter Filter { get; init; } = new();

    /// <summary>Page size (1-1000).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="JobsListResult.NextCursor"/> of the previous page; a cursor the store did not issue is refused with <see cref="ArgumentException"/>.</summary>
    public string? Cursor { get; init; }
}

/// <summary>Result of <see cref="IJobAdminStore.JobsListAsync"/>.</summary>
/// <param name="Jobs">The page.</param>
/// <param name="NextCursor">The cursor of the next page, or <see langword="null"/> on the last page.</param>
public sealed record JobsListResult(IReadOnlyList<JobRecord> Jobs, string? NextCursor);

/// <summary>Parameters of <see cref="IJobAdminStore.JobsCountAsync"/>.</summary>
/// <param name="Filter">Which jobs to count.</param>
public sealed record JobsCountParams(JobFilter Filter);

/// <summary>Result of <see cref="IJobAdminStore.JobsCountAsync"/>.</summary>
/// <param name="Count">How many jobs match.</param>
public sealed record JobsCountResult(long Count);

/// <summary>Parameters of <see cref="IJobAdminStore.JobsCancelAsync"/>.</summary>
/// <param name="Job">The job.</param>
public sealed record JobsCancelParams(JobRef Job);

/// <summary>Result of <see cref="IJobAdminStore.JobsCancelAsync"/>.</summary>
/// <param name="Found">Whether the job exists.</param>
/// <param name="Cancelled">Whether it was cancelled now (finished jobs cannot be).</param>
/// <param name="PreviousState">Its state before the call.</param>
/// <param name="TaskName">Its task, when found.</param>
/// <param name="Attempt">Its attempts so far, when found.</param>
public sealed record JobsCancelResult(bool Found, bool Cancelled, JobState PreviousState, string? TaskName = null, int Attempt = 0);

/// <summary>Parameters of <see cref="IJobAdminStore.JobsRetryAsync"/>.</summary>
/// <param name="Job">The job.</param>
public sealed record JobsRetryParams(JobRef Job);

/// <summary>Result of <see cref="IJobAdminStore.JobsRetryAsync"/>.</summary>
/// <param name="Retried">Whether the job was dead or cancelled and is now ready.</param>
public sealed record JobsRetryResult(bool Retried);

/// <summary>Parameters of <see cref="IJobAdminStore.JobsDeleteAsync"/>.</summary>
/// <param name="Job">The job.</param>
public sealed record JobsDeleteParams(JobRef Job);

/// <summary>Result of <see cref="IJobAdminStore.JobsDeleteAsync"/>.</summary>
/// <param name="Deleted">Whether the job existed.</param>
public sealed record JobsDeleteResult(bool Deleted);

/// <summary>What a bulk action does to each job it covers.</summary>
public enum JobsBulkAction
{
    /// <summary>Dead and cancelled jobs return to Ready with their attempts reset.</summary>
    Retry,

    /// <summary>Unfinished jobs are cancelled (running ones lose their lease).</summary>
    Cancel,

    /// <summary>Jobs in any state are deleted.</summary>
    Delete,
}

/// <summary>Parameters of <see cref="IJobAdminStore.JobsBulkAsync"/>.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Filter">Which jobs; only those the action applies to are touched.</param>
/// <param name="Max">The most jobs in this call (1-1000).</param>
public sealed record JobsBulkParams(JobsBulkAction Action, JobFilter Filter, int Max = 500)
{
    /// <summary>
    /// Where the previous call of the same action and filter stopped (its <see cref="JobsBulkResult.NextCursor"/>), so
    /// that this one does not read again what that one passed; <see langword="null"/> to start at the beginning.
    /// </summary>
    public string? Cursor { get; init; }
}

/// <summary>A job a bulk action changed.</summary>
/// <param name="Job">The job.</param>
/// <param name="TaskName">Its task.</param>
/// <param name="PreviousState">Its state before the action.</param>
/// <param name="Attempt">Its attempts before the action.</param>
public readonly record struct JobsBulkItem(JobRef Job, string TaskName, JobState PreviousState, int Attempt);

/// <summary>Result of <see cref="IJobAdminStore.JobsBulkAsync"/>.</summary>
/// <param name="Jobs">The jobs changed in this call.</param>
public sealed record JobsBulkResult(IReadOnlyList<JobsBulkItem> Jobs)
{
    /// <summary>
    /// Where the next call may go on (pass it as <see cref="JobsBulkParams.Cursor"/>): past every job this call read. A
    /// store whose reads never meet the jobs it already changed (they leave the index it reads) returns
    /// <see langword="null"/>, and the next call starts at the beginning.
    /// </summary>
    public string? NextCursor { get; init; }
}

/// <summary>Parameters of <see cref="IJobAdminStore.JobsPruneAsync"/>.</summary>
/// <param name="States">Finished states to prune.</param>
/// <param name="OlderThan">Prune jobs that finished longer ago than this, by the store's clock.</param>
/// <param name="Max">The most jobs to delete in one call.</param>
public sealed record JobsPruneParams(IReadOnlyList<JobState> States, TimeSpan OlderThan, int Max = 10_000);

/// <summary>Result of <see cref="IJobAdminStore.JobsPruneAsync"/>.</summary>
/// <param name="Deleted">How many jobs were deleted.</param>
public sealed record JobsPruneResult(int Deleted);

/// <summary>Parameters of <see cref="IJobAdminStore.QueuesListAsync"/>.</summary>
public sealed record QueuesListParams;

/// <summary>Result of <see cref="IJobAdminStore.QueuesListAsync"/>.</summary>
/// <param name="Queues">The queues, by name (ordinal).</param>
public sealed record QueuesListResult(IReadOnlyList<QueueInfo> Queues);

/// <summary>Parameters of <see cref="IJobAdminStore.QueuesPauseAsync"/>.</summary>
/// <param name="Queue">The queue.</param>
public sealed record QueuesPauseParams(string Queue);

/// <summary>Result of <see cref="IJobAdminStore.QueuesPauseAsync"/>.</summary>
public sealed record QueuesPauseResult;

/// <summary>Parameters of <see cref="IJobAdminStore.QueuesResumeAsync"/>.</summary>
/// <param name="Queue">The queue.</param>
public sealed record QueuesResumeParams(string Queue);

/// <summary>Result of <see cref="IJobAdminStore.QueuesResumeAsync"/>.</summary>
public sealed record QueuesResumeResult;

/// <summary>Parameters of <see cref="IJobAdminStore.QueuesClearAsync"/>.</summary>
/// <param name="Queue">The queue.</param>
public sealed record QueuesClearParams(string Queue);

/// <summary>Result of <see cref="IJobAdminStore.QueuesClearAsync"/>.</summary>
/// <param name="Deleted">How many waiting jobs were deleted.</param>
public sealed record QueuesClearResult(int Deleted);

/// <summary>Parameters of <see cref="IJobAdminStore.WorkersHeartbeatAsync"/>.</summary>
/// <param name="Worker">What the worker registers.</param>
public sealed record WorkersHeartbeatParams(WorkerRegistration Worker);

/// <summary>Result of <see cref="IJobAdminStore.WorkersHeartbeatAsync"/>.</summary>
/// <param name="Now">The heartbeat's time by the store's clock.</param>
public sealed record WorkersHeartbeatResult(DateTimeOffset Now);

/// <summary>Parameters of <see cref="IJobAdminStore.WorkersListAsync"/>.</summary>
public sealed record WorkersListParams;

/// <summary>Result of <see cref="IJobAdminStore.WorkersListAsync"/>.</summary>
/// <param name="Workers">The registered workers, by id (ordinal).</param>
/// <param name="Now">The store's time of the read, to judge how recent each heartbeat is.</param>
public sealed record WorkersListResult(IReadOnlyList<WorkerInfo> Workers, DateTimeOffset Now);

/// <summary>Parameters of <see cref="IJobAdminStore.WorkersRemoveAsync"/>.</summary>
/// <param name="WorkerId">The worker.</param>
public sealed record WorkersRemoveParams(string WorkerId);

/// <summary>Result of <see cref="IJobAdminStore.WorkersRemoveAsync"/>.</summary>
/// <param name="Removed">Whether it was registered.</param>
public sealed record WorkersRemoveResult(bool Removed);

/// <summary>Parameters of <see cref="IJobAdminStore.WorkersPruneAsync"/>.</summary>
/// <param name="OlderThan">Remove workers not heard from for longer than this.</param>
public sealed record WorkersPruneParams(TimeSpan OlderThan);

/// <summary>Result of <see cref="IJobAdminStore.WorkersPruneAsync"/>.</summary>
/// <param name="Removed">How many were removed.</param>
public sealed record WorkersPruneResult(int Removed);

/// <summary>Parameters of <see cref="IJobAdminStore.StatsThroughputAsync"/>.</summary>
/// <param name="Window">How far back (rounded up to whole minutes, at most one day), ending with the current minute.</param>
public sealed record StatsThroughputParams(TimeSpan Window);

/// <summary>Result of <see cref="IJobAdminStore.StatsThroughputAsync"/>.</summary>
/// <param name="Buckets">One bucket per minute of the window, oldest first, zero where nothing finished.</param>
public sealed record StatsThroughputResult(IReadOnlyList<ThroughputBucket> Buckets);

/// <summary>Parameters of <see cref="IJobAdminStore.StatsPruneAsync"/>.</summary>
/// <param name="OlderThan">Delete buckets of minutes older than this.</param>
public sealed record StatsPruneParams(TimeSpan OlderThan);

/// <summary>Result of <see cref="IJobAdminStore.StatsPruneAsync"/>.</summary>
/// <param name="Deleted">How many buckets were deleted.</param>
public sealed record StatsPruneResult(int Deleted);
