using System.Buffers;
using System.Data.Common;
using System.Diagnostics;
using System.Security.Cryptography;
using TypedJobs.Diagnostics;
using TypedJobs.Engine;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Client;

internal sealed class JobClient(
    StorageSet storage,
    TypedJobsOptions options,
    TaskRegistry registry,
    JobEventHub hub,
    LocalJobs localJobs,
    TypedJobsMetrics metrics,
    TimeProvider time) : IJobClient, IJobAdmin
{
    private const int BulkBatch = 500;

    public StorageCapabilities Capabilities => storage.Admin.Capabilities;

    public IReadOnlyList<JobTask> Tasks { get; } = registry.Tasks.OrderBy(static t => t.Name, StringComparer.Ordinal).ToArray();

    public ValueTask<JobId> EnqueueAsync<TPayload>(JobTask<TPayload> task, TPayload payload, JobOptions? options = null,
        CancellationToken cancellationToken = default) => EnqueueAsync(task, payload, options, null, cancellationToken);

    public ValueTask<JobHandle<TResult>> EnqueueAsync<TPayload, TResult>(JobTask<TPayload, TResult> task, TPayload payload,
        JobOptions? options = null, CancellationToken cancellationToken = default) => EnqueueAsync(task, payload, options, null, cancellationToken);

    public ValueTask<IReadOnlyList<JobId>> EnqueueBatchAsync<TPayload>(JobTask<TPayload> task, IEnumerable<TPayload> payloads,
        JobOptions? options = null, CancellationToken cancellationToken = default) => EnqueueBatchAsync(task, payloads, options, null, cancellationToken);

    public ValueTask<JobId> EnqueueSerializedAsync(string taskName, ReadOnlyMemory<byte> payload, JobOptions? options = null,
        CancellationToken cancellationToken = default) => EnqueueSerializedAsync(taskName, payload, options, null, cancellationToken);

    public IJobClient InTransaction(DbTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (storage.Jobs is not ITransactionalJobStore || (storage.Jobs.Capabilities & StorageCapabilities.TransactionalEnqueue) == 0)
        {
            throw new NotSupportedException(
                $"The storage of the Jobs role ({storage.Jobs.GetType().Name}) cannot join a database transaction: transactional enqueue needs a SQL store (SQLite, PostgreSQL, MySQL) for the Jobs role.");
        }

        return new TransactionClient(this, transaction);
    }

    internal async ValueTask<JobId> EnqueueAsync<TPayload>(JobTask<TPayload> task, TPayload payload, JobOptions? options,
        DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        var insert = Prepare(task, Serialize(task, payload), options);
        var ids = await InsertAsync([insert], transaction, cancellationToken).ConfigureAwait(false);
        return ids[0];
    }

    internal async ValueTask<JobHandle<TResult>> EnqueueAsync<TPayload, TResult>(JobTask<TPayload, TResult> task, TPayload payload,
        JobOptions? options, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var id = await EnqueueAsync((JobTask<TPayload>)task, payload, options, transaction, cancellationToken).ConfigureAwait(false);
        return new JobHandle<TResult>(id, this, task.ResultSerializer);
    }

    internal async ValueTask<IReadOnlyList<JobId>> EnqueueBatchAsync<TPayload>(JobTask<TPayload> task, IEnumerable<TPayload> payloads,
        JobOptions? options, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(payloads);
        var inserts = new List<JobInsert>();
        foreach (var payload in payloads)
        {
            inserts.Add(Prepare(task, Serialize(task, payload), options));
        }

        if (options?.UniqueKey is not null && inserts.Count > 1)
        {
            // One key names one job: the batch would come down to its first job, and the others' ids would all be its.
            throw new ArgumentException(
                $"JobOptions.UniqueKey names one job, but the batch has {inserts.Count}; enqueue them one by one, each with its own key, or deduplicate by payload ([Task(Unique = \"true\")]).",
                nameof(options));
        }

        return inserts.Count == 0 ? [] : await InsertAsync(inserts, transaction, cancellationToken).ConfigureAwait(false);
    }

    internal async ValueTask<JobId> EnqueueSerializedAsync(string taskName, ReadOnlyMemory<byte> payload, JobOptions? options,
        DbTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(taskName);
        var task = registry.TryGet(taskName, out var known) ? known : throw new UnknownTaskException(taskName);
        CheckSize(taskName, payload.Length);
        try
        {
            task.DecodePayload(payload.Span);
        }
        catch (InvalidPayloadException ex)
        {
            throw new ArgumentException($"The payload is not valid for task '{taskName}': {ex.Message}", nameof(payload), ex);
        }
        var ids = await InsertAsync([Prepare(task, payload.ToArray(), options)], transaction, cancellationToken).ConfigureAwait(false);
        return ids[0];
    }

    public async ValueTask<JobRecord?> GetJobAsync(JobId id, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await storage.Admin.JobsGetAsync(new JobsGetParams(id), cancellationToken).ConfigureAwait(false)).Job;
    }

    public async ValueTask<bool> CancelAsync(JobId id, CancellationToken cancellationToken = default)
    {
        if (await LocateAsync(id, cancellationToken).ConfigureAwait(false) is not { } job)
        {
            return false;
        }

        var result = await storage.Admin.JobsCancelAsync(new JobsCancelParams(job), cancellationToken).ConfigureAwait(false);
        if (!result.Cancelled)
        {
            return false;
        }

        Cancelled(job, result.TaskName ?? "", result.Attempt);
        return true;
    }

    public async ValueTask<JobRecord> WaitForCompletionAsync(JobId id, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            // Subscribe before reading, so a completion between the read and the wait is not missed.
            var signal = hub.WaitForFinalAsync(id);
            try
            {
                var job = (await storage.Admin.JobsGetAsync(new JobsGetParams(id), cancellationToken).ConfigureAwait(false)).Job
                          ?? throw new JobCancelledException(id, "does not exist (it was deleted or pruned)");
                if (job.State.IsFinished())
                {
                    return job;
                }

                using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var poll = Task.Delay(options.ResultPollInterval, time, cts.Token);
                await Task.WhenAny(signal, poll).ConfigureAwait(false);
                await cts.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            finally
            {
                hub.StopWaiting(id, signal);
            }
        }
    }

    public async ValueTask<TResult> GetResultAsync<TResult>(JobId id, JobSerializer<TResult> serializer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        var job = await WaitForCompletionAsync(id, cancellationToken).ConfigureAwait(false);
        switch (job.State)
        {
            case JobState.Dead:
                throw new JobFailedException(id, job.LastError);
            case JobState.Cancelled:
                throw new JobCancelledException(id, "was cancelled");
        }

        var results = storage.Results ?? throw new InvalidOperationException("No storage is assigned to the Results role.");
        // The succeeded attempt's lease token names its result: a result a stale attempt wrote is never read. A job that
        // a worker of an older version completed records no token; Guid.Empty asks for its only result.
        var token = job.SucceededLeaseToken ?? Guid.Empty;
        var stored = (await results.ResultsGetAsync(new ResultsGetParams(id, token), cancellationToken).ConfigureAwait(false)).Result;
        if (stored is null)
        {
            throw new InvalidOperationException($"Job {id} succeeded but its result is not stored (it expired, or the task returns no value).");
        }

        return serializer.Deserialize(stored.Value);
    }

    public async ValueTask<JobsListResult> ListJobsAsync(JobsListParams query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckFilter(query.Filter);
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await storage.Admin.JobsListAsync(query, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<long> CountJobsAsync(JobFilter filter, CancellationToken cancellationToken = default)
    {
        CheckFilter(filter);
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await storage.Admin.JobsCountAsync(new JobsCountParams(filter), cancellationToken).ConfigureAwait(false)).Count;
    }

    public async ValueTask<bool> RetryAsync(JobId id, CancellationToken cancellationToken = default)
    {
        if (await LocateAsync(id, cancellationToken).ConfigureAwait(false) is not { } job)
        {
            return false;
        }

        return (await storage.Admin.JobsRetryAsync(new JobsRetryParams(job), cancellationToken).ConfigureAwait(false)).Retried;
    }

    public async ValueTask<bool> DeleteAsync(JobId id, CancellationToken cancellationToken = default)
    {
        if (await LocateAsync(id, cancellationToken).ConfigureAwait(false) is not { } job)
        {
            return false;
        }

        var deleted = (await storage.Admin.JobsDeleteAsync(new JobsDeleteParams(job), cancellationToken).ConfigureAwait(false)).Deleted;
        if (deleted)
        {
            localJobs.Cancel(id);
            await DeleteResultsAsync([id], cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    public async ValueTask<long> BulkAsync(JobsBulkAction action, JobFilter filter, IProgress<BulkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        CheckFilter(filter);
        if (!Enum.IsDefined(action))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action, "Unknown bulk action.");
        }

        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        var total = (await storage.Admin.JobsCountAsync(new JobsCountParams(filter), cancellationToken).ConfigureAwait(false)).Count;
        long done = 0;
        progress?.Report(new BulkProgress(0, total));
        string? cursor = null;
        while (done < total)
        {
            var max = (int)Math.Min(BulkBatch, total - done);
            var batch = await storage.Admin.JobsBulkAsync(new JobsBulkParams(action, filter, max) { Cursor = cursor }, cancellationToken).ConfigureAwait(false);
            cursor = batch.NextCursor;
            foreach (var item in batch.Jobs)
            {
                if (action == JobsBulkAction.Cancel)
                {
                    Cancelled(item.Job, item.TaskName, item.Attempt);
                }
                else if (action == JobsBulkAction.Delete)
                {
                    localJobs.Cancel(item.Job.Id);
                }
            }

            if (action == JobsBulkAction.Delete && batch.Jobs.Count > 0)
            {
                await DeleteResultsAsync(batch.Jobs.Select(j => j.Job.Id).ToArray(), cancellationToken).ConfigureAwait(false);
            }

            done += batch.Jobs.Count;
            progress?.Report(new BulkProgress(done, Math.Max(done, total)));
            if (batch.Jobs.Count < max)
            {
                break;
            }
        }

        return done;
    }

    public async ValueTask<int> PruneAsync(IReadOnlyList<JobState> states, TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.Any(s => !s.IsFinished()))
        {
            throw new ArgumentException("Only finished states (Succeeded, Dead, Cancelled) can be pruned.", nameof(states));
        }

        if (olderThan < TimeSpan.Zero || olderThan > StorageRules.MaxDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan,
                $"The age of the jobs to prune must be between zero and {StorageRules.MaxDelay.Days} days.");
        }

        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        const int batch = 10_000;
        var total = 0;
        while (true)
        {
            var deleted = (await storage.Admin.JobsPruneAsync(new JobsPruneParams(states, olderThan, batch), cancellationToken).ConfigureAwait(false)).Deleted;
            total += deleted;
            if (deleted < batch)
            {
                return total;
            }
        }
    }

    public async ValueTask<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await storage.Admin.QueuesListAsync(new QueuesListParams(), cancellationToken).ConfigureAwait(false)).Queues;
    }

    public async ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueNames.Validate(queue, nameof(queue));
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        await storage.Admin.QueuesPauseAsync(new QueuesPauseParams(queue), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueNames.Validate(queue, nameof(queue));
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        await storage.Admin.QueuesResumeAsync(new QueuesResumeParams(queue), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> ClearQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueNames.Validate(queue, nameof(queue));
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await storage.Admin.QueuesClearAsync(new QueuesClearParams(queue), cancellationToken).ConfigureAwait(false)).Deleted;
    }

    public async ValueTask<IReadOnlyList<JobEvent>> GetEventsAsync(JobId id, int limit = 100, CancellationToken cancellationToken = default)
    {
        var events = storage.Events ?? throw new InvalidOperationException("No storage is assigned to the Events role.");
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await events.EventsListAsync(new EventsListParams(id, limit), cancellationToken).ConfigureAwait(false)).Events;
    }

    public async ValueTask<WorkersListResult> GetWorkersAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await storage.Admin.WorkersListAsync(new WorkersListParams(), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<ThroughputBucket>> GetThroughputAsync(TimeSpan window, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await storage.Admin.StatsThroughputAsync(new StatsThroughputParams(window), cancellationToken).ConfigureAwait(false)).Buckets;
    }

    public async ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await storage.Locks.LocksAcquireAsync(new LocksAcquireParams(name, owner, ttl), cancellationToken).ConfigureAwait(false)).Acquired;
    }

    public async ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return (await storage.Locks.LocksReleaseAsync(new LocksReleaseParams(name, owner), cancellationToken).ConfigureAwait(false)).Released;
    }

    private async ValueTask<JobRef?> LocateAsync(JobId id, CancellationToken cancellationToken)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        var located = await storage.Admin.JobsLocateAsync(new JobsLocateParams([id]), cancellationToken).ConfigureAwait(false);
        return located.Jobs.Count > 0 ? located.Jobs[0] : null;
    }

    private void Cancelled(JobRef job, string taskName, int attempt)
    {
        // A job running in this process stops at once; elsewhere its worker sees the lost lease at its next heartbeat.
        localJobs.Cancel(job.Id);
        metrics.Cancelled.Add(1, TypedJobsMetrics.Tags(taskName, job.Queue));
        hub.Publish(new JobEvent
        {
            Kind = JobEventKind.Cancelled,
            JobId = job.Id,
            TaskName = taskName,
            Queue = job.Queue,
            Attempt = attempt,
            Timestamp = time.GetUtcNow(),
        });
    }

    private async ValueTask DeleteResultsAsync(IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        if (storage.Results is { } results)
        {
            await results.ResultsDeleteAsync(new ResultsDeleteParams(ids), cancellationToken).ConfigureAwait(false);
        }
    }

    private void CheckFilter(JobFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Text is not null && (storage.Admin.Capabilities & StorageCapabilities.TextSearch) == 0)
        {
            throw new NotSupportedException(
                $"The storage of the Jobs role ({storage.Admin.GetType().Name}) cannot search job payloads and errors for text (JobFilter.Text).");
        }
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? serializeBuffer;

    private byte[] Serialize<TPayload>(JobTask<TPayload> task, TPayload payload)
    {
        var buffer = serializeBuffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        try
        {
            task.PayloadSerializer.Serialize(payload, buffer);
            CheckSize(task.Name, buffer.WrittenCount);
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // Do not keep a large buffer alive on the thread after an unusually big payload.
            if (buffer.Capacity > 64 * 1024)
            {
                serializeBuffer = null;
            }
        }
    }

    private void CheckSize(string taskName, int size)
    {
        if (size > options.MaxPayloadBytes)
        {
            throw new PayloadTooLargeException(taskName, size, options.MaxPayloadBytes);
        }
    }

    private JobInsert Prepare(JobTask task, byte[] payload, JobOptions? jobOptions)
    {
        var settings = task.Settings;
        var queue = jobOptions?.Queue ?? settings.Queue ?? options.DefaultQueue;
        QueueNames.Validate(queue, "options.Queue");
        if (jobOptions is { Delay: not null, RunAt: not null })
        {
            throw new ArgumentException("Set either JobOptions.Delay or JobOptions.RunAt, not both.", nameof(jobOptions));
        }

        if (jobOptions?.Delay < TimeSpan.Zero || jobOptions?.Delay > StorageRules.MaxDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(jobOptions), jobOptions.Delay,
                $"JobOptions.Delay must be between zero and {StorageRules.MaxDelay.Days} days.");
        }

        if (jobOptions?.RunAt is { } runAt && runAt - time.GetUtcNow() > StorageRules.MaxDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(jobOptions), runAt,
                $"JobOptions.RunAt must be less than {StorageRules.MaxDelay.Days} days from now.");
        }

        var priority = jobOptions?.Priority ?? settings.Priority;
        if (priority is < Priority.Low or > Priority.Critical)
        {
            throw new ArgumentOutOfRangeException(nameof(jobOptions), priority,
                $"Priority {(int)priority} is not one of Low (0), Normal (1), High (2) or Critical (3).");
        }

        var maxRetries = jobOptions?.MaxRetries ?? settings.MaxRetries ?? options.DefaultMaxRetries;
        if (maxRetries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(jobOptions), maxRetries, "MaxRetries must not be negative.");
        }

        var uniqueKey = jobOptions?.UniqueKey;
        var untilPruned = jobOptions?.UniqueUntilPruned ?? false;
        if (uniqueKey is null && (settings.UniqueByPayload || settings.UniqueWindow is not null))
        {
            uniqueKey = task.Name + ":" + Convert.ToHexString(SHA256.HashData(payload), 0, 16);
            if (settings.UniqueWindow is { } window && window > TimeSpan.Zero)
            {
                uniqueKey += ":" + (time.GetUtcNow().UtcTicks / window.Ticks).ToString(System.Globalization.CultureInfo.InvariantCulture);
                untilPruned = true;
            }
        }

        string? traceParent = null;
        string? traceState = null;
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            traceParent = current.Id;
            traceState = current.TraceStateString;
        }

        return new JobInsert
        {
            Id = JobId.New(),
            TaskName = task.Name,
            Queue = queue,
            Priority = priority,
            Payload = payload,
            MaxRetries = maxRetries,
            RunAt = jobOptions?.RunAt,
            Delay = jobOptions?.Delay,
            UniqueKey = uniqueKey,
            UniqueUntilPruned = untilPruned,
            TraceParent = traceParent,
            TraceState = traceState,
        };
    }

    private async ValueTask<IReadOnlyList<JobId>> InsertAsync(IReadOnlyList<JobInsert> inserts, DbTransaction? transaction,
        CancellationToken cancellationToken)
    {
        using var activity = TypedJobsDiagnostics.ActivitySource.StartActivity(
            inserts.Count == 1 ? "enqueue " + inserts[0].TaskName : "enqueue batch " + inserts[0].TaskName, ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("typedjobs.task", inserts[0].TaskName);
            activity.SetTag("typedjobs.queue", inserts[0].Queue);
            activity.SetTag("typedjobs.batch_size", inserts.Count);
            var withTrace = new JobInsert[inserts.Count];
            for (var i = 0; i < inserts.Count; i++)
            {
                withTrace[i] = inserts[i] with { TraceParent = activity.Id, TraceState = activity.TraceStateString };
            }

            inserts = withTrace;
        }

        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<JobInsertOutcome> outcomes;
        if (transaction is null)
        {
            outcomes = (await storage.Jobs.JobsInsertAsync(new JobsInsertParams(inserts), cancellationToken).ConfigureAwait(false)).Outcomes;
            Inserted(inserts, outcomes);
        }
        else
        {
            var store = (ITransactionalJobStore)storage.Jobs;
            IReadOnlyList<JobInsertOutcome>? committed = null;
            var result = await store.JobsInsertInTransactionAsync(
                new JobsInsertInTransactionParams(transaction, inserts, () => Inserted(inserts, Volatile.Read(ref committed)!)),
                cancellationToken).ConfigureAwait(false);
            outcomes = result.Outcomes;
            Volatile.Write(ref committed, outcomes);
            if (!result.CommitObserved)
            {
                // The store cannot tell when the caller commits: count the jobs now; workers find them at their next poll.
                Inserted(inserts, outcomes, events: false);
            }
        }

        var ids = new JobId[inserts.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = outcomes[i].Id;
        }

        if (activity is not null)
        {
            activity.SetTag("typedjobs.job_id", ids[0].ToString());
        }

        return ids;
    }

    /// <summary>Counts inserted jobs and publishes their Enqueued events (after the insert is durable, or committed).</summary>
    private void Inserted(IReadOnlyList<JobInsert> inserts, IReadOnlyList<JobInsertOutcome>? outcomes, bool events = true)
    {
        if (outcomes is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        var inserted = 0;
        for (var i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            if (!outcome.Inserted)
            {
                continue;
            }

            inserted++;
            if (events && hub.IsObserved(outcome.Id))
            {
                var insert = inserts[i];
                hub.Publish(new JobEvent
                {
                    Kind = JobEventKind.Enqueued,
                    JobId = outcome.Id,
                    TaskName = insert.TaskName,
                    Queue = insert.Queue,
                    Timestamp = now,
                });
            }
        }

        // Every job of one call shares its task and queue.
        if (inserted > 0)
        {
            metrics.Enqueued.Add(inserted, TypedJobsMetrics.Tags(inserts[0].TaskName, inserts[0].Queue));
        }
    }

    /// <summary>A client bound to the caller's transaction: enqueues join it, everything else goes to the client.</summary>
    private sealed class TransactionClient(JobClient client, DbTransaction transaction) : IJobClient
    {
        public ValueTask<JobId> EnqueueAsync<TPayload>(JobTask<TPayload> task, TPayload payload, JobOptions? options = null,
            CancellationToken cancellationToken = default) => client.EnqueueAsync(task, payload, options, transaction, cancellationToken);

        public ValueTask<JobHandle<TResult>> EnqueueAsync<TPayload, TResult>(JobTask<TPayload, TResult> task, TPayload payload,
            JobOptions? options = null, CancellationToken cancellationToken = default) =>
            client.EnqueueAsync(task, payload, options, transaction, cancellationToken);

        public ValueTask<IReadOnlyList<JobId>> EnqueueBatchAsync<TPayload>(JobTask<TPayload> task, IEnumerable<TPayload> payloads,
            JobOptions? options = null, CancellationToken cancellationToken = default) =>
            client.EnqueueBatchAsync(task, payloads, options, transaction, cancellationToken);

        public ValueTask<JobId> EnqueueSerializedAsync(string taskName, ReadOnlyMemory<byte> payload, JobOptions? options = null,
            CancellationToken cancellationToken = default) => client.EnqueueSerializedAsync(taskName, payload, options, transaction, cancellationToken);

        public ValueTask<JobRecord?> GetJobAsync(JobId id, CancellationToken cancellationToken = default) => client.GetJobAsync(id, cancellationToken);

        public ValueTask<bool> CancelAsync(JobId id, CancellationToken cancellationToken = default) => client.CancelAsync(id, cancellationToken);

        public ValueTask<JobRecord> WaitForCompletionAsync(JobId id, CancellationToken cancellationToken = default) =>
            client.WaitForCompletionAsync(id, cancellationToken);

        public ValueTask<TResult> GetResultAsync<TResult>(JobId id, JobSerializer<TResult> serializer, CancellationToken cancellationToken = default) =>
            client.GetResultAsync(id, serializer, cancellationToken);

        public IJobClient InTransaction(DbTransaction other) => client.InTransaction(other);
    }
}

/// <summary>Queue name rules: 1-100 characters of letters, digits, '-', '_', '.', ':'.</summary>
internal static class QueueNames
{
    public static void Validate(string? name, string paramName)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException(
                $"'{name}' is not a valid queue name: use 1-100 characters of letters, digits, '-', '_', '.' or ':'.", paramName);
        }
    }

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
