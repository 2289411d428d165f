using System.Data.Common;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs;

/// <summary>
/// Enqueues jobs and follows them. The source generator adds a typed <c>EnqueueXxxAsync</c> extension per task;
/// the generic methods here are what those stubs call and can be used with hand-registered <see cref="JobTask"/>s.
/// </summary>
public interface IJobClient
{
    /// <summary>Enqueues one job of <paramref name="task"/>.</summary>
    ValueTask<JobId> EnqueueAsync<TPayload>(JobTask<TPayload> task, TPayload payload, JobOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>Enqueues one job of a task with a result and returns a handle to await it.</summary>
    ValueTask<JobHandle<TResult>> EnqueueAsync<TPayload, TResult>(JobTask<TPayload, TResult> task, TPayload payload,
        JobOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Enqueues many jobs of <paramref name="task"/> in one atomic store call; ids are returned in input order.</summary>
    /// <remarks>
    /// One call is one write transaction. On SQLite it holds the file's write lock while it lasts (about 10 µs a job on
    /// a small machine: a million jobs take seconds), and other processes' writes on the file wait meanwhile, up to their
    /// busy timeout: split very large batches when other processes work on the same file. A batch of more than one job
    /// with <see cref="JobOptions.UniqueKey"/> is refused (<see cref="ArgumentException"/>): one key names one job.
    /// </remarks>
    ValueTask<IReadOnlyList<JobId>> EnqueueBatchAsync<TPayload>(JobTask<TPayload> task, IEnumerable<TPayload> payloads,
        JobOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Enqueues a job from an already serialized payload, by task name (used by schedulers, the admin API and tools). The
    /// payload must be valid for the task: it is read with the task's own serializer first.
    /// </summary>
    /// <exception cref="UnknownTaskException">No task of that name is registered.</exception>
    /// <exception cref="ArgumentException">The payload is not valid for the task (the message says why), or too large.</exception>
    ValueTask<JobId> EnqueueSerializedAsync(string taskName, ReadOnlyMemory<byte> payload, JobOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>Gets a job, or <see langword="null"/> when it does not exist.</summary>
    ValueTask<JobRecord?> GetJobAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a job that has not finished. A running job's cancellation token fires (at once in this process,
    /// at its worker's next heartbeat elsewhere). Returns <see langword="false"/> when the job is missing or finished.
    /// </summary>
    ValueTask<bool> CancelAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>Waits until the job reaches a final state and returns it.</summary>
    ValueTask<JobRecord> WaitForCompletionAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>Waits for the job and reads its result with <paramref name="serializer"/>.</summary>
    /// <exception cref="JobFailedException">The job ended dead.</exception>
    /// <exception cref="JobCancelledException">The job was cancelled or deleted.</exception>
    ValueTask<TResult> GetResultAsync<TResult>(JobId id, JobSerializer<TResult> serializer, CancellationToken cancellationToken = default);

    /// <summary>
    /// A client whose enqueues join <paramref name="transaction"/>, the caller's own open database transaction: the jobs
    /// exist if and only if the transaction commits. Use it with the generated stubs:
    /// <c>await jobs.InTransaction(tx).EnqueueSendWelcomeAsync(…)</c>. Enqueues go through the same validation, payload
    /// limit, unique keys and trace context as any other; <see cref="Events.JobEventKind.Enqueued"/> events and the
    /// wake-up of workers in this process happen after the commit where the store can observe it (SQLite does), and a
    /// rollback leaves no job. Every other member works outside the transaction.
    /// </summary>
    /// <exception cref="NotSupportedException">The storage of the jobs role cannot join a database transaction.</exception>
    IJobClient InTransaction(DbTransaction transaction);
}

/// <summary>A job whose task returns <typeparamref name="TResult"/>.</summary>
public sealed class JobHandle<TResult>
{
    private readonly IJobClient client;
    private readonly JobSerializer<TResult> serializer;

    internal JobHandle(JobId id, IJobClient client, JobSerializer<TResult> serializer)
    {
        Id = id;
        this.client = client;
        this.serializer = serializer;
    }

    /// <summary>The job's id.</summary>
    public JobId Id { get; }

    /// <summary>Waits for the job to finish and returns its result.</summary>
    /// <exception cref="JobFailedException">The job ended dead.</exception>
    /// <exception cref="JobCancelledException">The job was cancelled or deleted.</exception>
    public ValueTask<TResult> GetResultAsync(CancellationToken cancellationToken = default) =>
        client.GetResultAsync(Id, serializer, cancellationToken);

    /// <summary>The job's id.</summary>
    public static implicit operator JobId(JobHandle<TResult> handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return handle.Id;
    }

    /// <inheritdoc />
    public override string ToString() => Id.ToString();
}

/// <summary>Operations on jobs, queues and workers for operators, dashboards and tools.</summary>
public interface IJobAdmin
{
    /// <summary>What the storage of the jobs role can do (for example <see cref="StorageCapabilities.TextSearch"/>).</summary>
    StorageCapabilities Capabilities { get; }

    /// <summary>The tasks registered in this process, by name (with their settings and serializers).</summary>
    IReadOnlyList<JobTask> Tasks { get; }

    /// <summary>Lists jobs that match a filter, newest first, with cursor paging.</summary>
    ValueTask<JobsListResult> ListJobsAsync(JobsListParams query, CancellationToken cancellationToken = default);

    /// <summary>Counts jobs that match a filter.</summary>
    ValueTask<long> CountJobsAsync(JobFilter filter, CancellationToken cancellationToken = default);

    /// <summary>Returns a dead or cancelled job to its queue with fresh attempts.</summary>
    ValueTask<bool> RetryAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>Deletes a job and its result (a running job's outcome is then discarded).</summary>
    ValueTask<bool> DeleteAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies an action to every job that matches <paramref name="filter"/> and that the action applies to (retry: dead
    /// and cancelled jobs; cancel: unfinished jobs; delete: all), in bounded batches, and returns how many jobs it
    /// changed. Jobs that start to match while it runs may be left out: it stops once it has covered as many jobs as
    /// matched when it began. <paramref name="progress"/> hears after every batch.
    /// </summary>
    ValueTask<long> BulkAsync(JobsBulkAction action, JobFilter filter, IProgress<BulkProgress>? progress = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes finished jobs in <paramref name="states"/> that finished longer than <paramref name="olderThan"/> ago (by
    /// the store's clock). <paramref name="olderThan"/> is between zero and 36,525 days.
    /// </summary>
    ValueTask<int> PruneAsync(IReadOnlyList<JobState> states, TimeSpan olderThan, CancellationToken cancellationToken = default);

    /// <summary>Every queue with its length, per-state counts and paused flag.</summary>
    ValueTask<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops workers from claiming jobs of a queue.</summary>
    ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Lets workers claim jobs of a paused queue again.</summary>
    ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Deletes every waiting job of a queue and returns how many.</summary>
    ValueTask<int> ClearQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>The recorded lifecycle events of a job, oldest first (needs <c>RecordEvents</c>).</summary>
    ValueTask<IReadOnlyList<Events.JobEvent>> GetEventsAsync(JobId id, int limit = 100, CancellationToken cancellationToken = default);

    /// <summary>The workers registered in the store, with their last heartbeat, and the store's time of the read.</summary>
    ValueTask<WorkersListResult> GetWorkersAsync(CancellationToken cancellationToken = default);

    /// <summary>Succeeded and failed attempts per minute over the last <paramref name="window"/> (at most a day), oldest first.</summary>
    ValueTask<IReadOnlyList<ThroughputBucket>> GetThroughputAsync(TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>Takes or extends a named lock; for singleton work across processes.</summary>
    ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Releases a named lock held by <paramref name="owner"/>.</summary>
    ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken = default);
}

/// <summary>How far a bulk action has come.</summary>
/// <param name="Done">Jobs changed so far.</param>
/// <param name="Total">Jobs that matched the filter when it began.</param>
public readonly record struct BulkProgress(long Done, long Total);
