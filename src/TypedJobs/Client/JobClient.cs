using System.Buffers;
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
    private IJobStore Store => storage.Jobs;

    public async ValueTask<JobId> EnqueueAsync<TPayload>(JobTask<TPayload> task, TPayload payload, JobOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        var insert = Prepare(task, Serialize(task, payload), options);
        var ids = await InsertAsync([insert], cancellationToken).ConfigureAwait(false);
        return ids[0];
    }

    public async ValueTask<JobHandle<TResult>> EnqueueAsync<TPayload, TResult>(JobTask<TPayload, TResult> task, TPayload payload,
        JobOptions? options = null, CancellationToken cancellationToken = default)
    {
        var id = await EnqueueAsync((JobTask<TPayload>)task, payload, options, cancellationToken).ConfigureAwait(false);
        return new JobHandle<TResult>(id, this, task.ResultSerializer);
    }

    public async ValueTask<IReadOnlyList<JobId>> EnqueueBatchAsync<TPayload>(JobTask<TPayload> task, IEnumerable<TPayload> payloads,
        JobOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(payloads);
        var inserts = new List<JobInsert>();
        foreach (var payload in payloads)
        {
            inserts.Add(Prepare(task, Serialize(task, payload), options));
        }

        return inserts.Count == 0 ? [] : await InsertAsync(inserts, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobId> EnqueueSerializedAsync(string taskName, ReadOnlyMemory<byte> payload, JobOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(taskName);
        var task = registry.TryGet(taskName, out var known) ? known : throw new UnknownTaskException(taskName);
        CheckSize(taskName, payload.Length);
        var ids = await InsertAsync([Prepare(task, payload.ToArray(), options)], cancellationToken).ConfigureAwait(false);
        return ids[0];
    }

    public async ValueTask<JobRecord?> GetJobAsync(JobId id, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.JobsGetAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> CancelAsync(JobId id, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        var result = await Store.JobsCancelAsync(id, cancellationToken).ConfigureAwait(false);
        if (!result.Cancelled)
        {
            return false;
        }

        // A job running in this process stops at once; elsewhere its worker sees the lost lease at its next heartbeat.
        localJobs.Cancel(id);
        var job = await Store.JobsGetAsync(id, cancellationToken).ConfigureAwait(false);
        if (job is not null)
        {
            metrics.Cancelled.Add(1, TypedJobsMetrics.Tags(job.TaskName, job.Queue));
            hub.Publish(new JobEvent
            {
                Kind = JobEventKind.Cancelled,
                JobId = id,
                TaskName = job.TaskName,
                Queue = job.Queue,
                Attempt = job.Attempt,
                Timestamp = time.GetUtcNow(),
            });
        }

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
                var job = await Store.JobsGetAsync(id, cancellationToken).ConfigureAwait(false)
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

        var stored = await storage.Results.ResultsGetAsync(id, cancellationToken).ConfigureAwait(false)
                     ?? throw new InvalidOperationException($"Job {id} succeeded but its result is not stored (it expired, or the task returns no value).");
        return serializer.Deserialize(stored.Value);
    }

    public async ValueTask<JobsListResult> ListJobsAsync(JobsListParams query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.JobsListAsync(query, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> RetryAsync(JobId id, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.JobsRetryAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> DeleteAsync(JobId id, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await Store.JobsDeleteAsync(id, cancellationToken).ConfigureAwait(false);
        if (deleted)
        {
            localJobs.Cancel(id);
        }

        return deleted;
    }

    public async ValueTask<int> PruneAsync(IReadOnlyList<JobState> states, TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.Any(s => !s.IsFinished()))
        {
            throw new ArgumentException("Only finished states (Succeeded, Dead, Cancelled) can be pruned.", nameof(states));
        }

        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.JobsPruneAsync(new JobsPruneParams(states, time.GetUtcNow() - olderThan), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.QueuesListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueNames.Validate(queue, nameof(queue));
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        await Store.QueuesPauseAsync(queue, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueNames.Validate(queue, nameof(queue));
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        await Store.QueuesResumeAsync(queue, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> ClearQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueNames.Validate(queue, nameof(queue));
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.QueuesClearAsync(queue, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<JobEvent>> GetEventsAsync(JobId id, int limit = 100, CancellationToken cancellationToken = default)
    {
        var events = storage.Events ?? throw new InvalidOperationException("No storage is assigned to the Events role.");
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await events.EventsListAsync(new EventsListParams(id, limit), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.LocksAcquireAsync(new LockAcquireParams(name, owner, ttl), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken = default)
    {
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await Store.LocksReleaseAsync(name, owner, cancellationToken).ConfigureAwait(false);
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

        if (jobOptions?.Delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(jobOptions), jobOptions.Delay, "JobOptions.Delay must not be negative.");
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
            Priority = jobOptions?.Priority ?? settings.Priority,
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

    private async ValueTask<IReadOnlyList<JobId>> InsertAsync(IReadOnlyList<JobInsert> inserts, CancellationToken cancellationToken)
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
        var result = await Store.JobsInsertAsync(new JobsInsertParams(inserts), cancellationToken).ConfigureAwait(false);
        var ids = new JobId[inserts.Count];
        var now = time.GetUtcNow();
        var inserted = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            var outcome = result.Outcomes[i];
            ids[i] = outcome.Id;
            if (!outcome.Inserted)
            {
                continue;
            }

            inserted++;
            if (hub.IsObserved(outcome.Id))
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

        if (activity is not null)
        {
            activity.SetTag("typedjobs.job_id", ids[0].ToString());
        }

        return ids;
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
