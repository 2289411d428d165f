using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// One worker: a producer loop that claims up to the free slots in one store call and runs each job in its own DI
/// scope; a completer that writes outcomes in batches; one heartbeat that extends all leases in one call; a rescuer.
/// </summary>
internal sealed class JobWorker : BackgroundService
{
    private const int MaxErrorLength = 4000;

    private readonly StorageSet storage;
    private readonly TaskRegistry registry;
    private readonly TypedJobsOptions options;
    private readonly WorkerOptions worker;
    private readonly JobEventHub hub;
    private readonly LocalJobs localJobs;
    private readonly TypedJobsMetrics metrics;
    private readonly TimeProvider time;
    private readonly IServiceScopeFactory scopes;
    private readonly ILogger logger;
    private readonly string workerId;
    private readonly string[] queueNames;
    private readonly JobsWaitParams waitParams;
    private readonly WorkerRegistration registration;
    private readonly ConcurrentDictionary<JobId, Execution> executions = new();
    private readonly ConcurrentDictionary<JobId, JobLease> leases = new();
    private readonly Dictionary<string, int> runningPerQueue = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> runningPerTask = new(StringComparer.Ordinal);
    private readonly Channel<Outcome> outcomes = Channel.CreateUnbounded<Outcome>(new UnboundedChannelOptions { SingleReader = true });
    private readonly AsyncSignal slotFreed = new();
    private readonly CancellationTokenSource backgroundCts = new();
    private readonly int refillThreshold;

    // Tasks with a per-worker MaxConcurrency (name → limit), computed once: the registry never changes.
    private readonly Dictionary<string, int> cappedTasks;
    private int released;
    private int running;
    private TaskCompletionSource? drained;

    public JobWorker(StorageSet storage, TaskRegistry registry, TypedJobsOptions options, WorkerOptions worker, JobEventHub hub,
        LocalJobs localJobs, TypedJobsMetrics metrics, TimeProvider time, IServiceScopeFactory scopes, ILogger<JobWorker> logger)
    {
        worker.Validate();
        this.storage = storage;
        this.registry = registry;
        this.options = options;
        this.worker = worker;
        this.hub = hub;
        this.localJobs = localJobs;
        this.metrics = metrics;
        this.time = time;
        this.scopes = scopes;
        this.logger = logger;
        workerId = worker.WorkerId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
        queueNames = worker.Queues.Distinct(StringComparer.Ordinal).ToArray();
        waitParams = new JobsWaitParams(queueNames);
        cappedTasks = registry.Tasks.Where(t => t.Settings.MaxConcurrency > 0)
            .ToDictionary(t => t.Name, t => t.Settings.MaxConcurrency, StringComparer.Ordinal);
        refillThreshold = Math.Max(1, worker.Concurrency / 8);
        registration = new WorkerRegistration
        {
            Id = workerId,
            Host = Environment.MachineName,
            ProcessId = Environment.ProcessId,
            Queues = queueNames,
            Tasks = registry.Tasks.Select(t => t.Name).Order(StringComparer.Ordinal).ToArray(),
            Concurrency = worker.Concurrency,
        };
    }

    public string WorkerId => workerId;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        await storage.EnsureInitializedAsync(stoppingToken).ConfigureAwait(false);
        Log.WorkerStarted(logger, workerId, string.Join(",", queueNames), worker.Concurrency);
        try
        {
            await RegisterAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.StoreCallFailed(logger, ex, workerId, nameof(IJobAdminStore.WorkersHeartbeatAsync));
        }

        var completer = Task.Run(CompleteLoopAsync, CancellationToken.None);
        var heartbeat = Task.Run(() => HeartbeatLoopAsync(backgroundCts.Token), CancellationToken.None);
        var rescuer = Task.Run(() => RescueLoopAsync(backgroundCts.Token), CancellationToken.None);
        try
        {
            await ProduceAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await ShutdownAsync().ConfigureAwait(false);
            outcomes.Writer.TryComplete();
            await completer.ConfigureAwait(false);
            await backgroundCts.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(heartbeat, rescuer).ConfigureAwait(false);
            try
            {
                await storage.Admin.WorkersRemoveAsync(new WorkersRemoveParams(workerId), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.StoreCallFailed(logger, ex, workerId, nameof(IJobAdminStore.WorkersRemoveAsync));
            }

            Log.WorkerStopped(logger, workerId, released);
        }
    }

    private async Task ProduceAsync(CancellationToken stopping)
    {
        var store = storage.Jobs;
        Task? wake = null;
        while (!stopping.IsCancellationRequested)
        {
            // Subscribe to "a slot was freed" before reading the counts, so a release in between is not missed.
            var slotWait = slotFreed.WaitAsync(CancellationToken.None).AsTask();
            var (claims, total, taskLimits, constrained) = Capacity();
            if (total == 0)
            {
                // Every slot is busy (or every queue at its cap). A freed slot wakes the producer once enough are free
                // for a batched claim; the poll bounds how long a single free slot can sit idle behind long jobs.
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                await Task.WhenAny(slotWait, Task.Delay(worker.PollInterval, time, idle.Token)).ConfigureAwait(false);
                await idle.CancelAsync().ConfigureAwait(false);
                continue;
            }

            if (wake is null || wake.IsCompleted)
            {
                wake = store.JobsWaitAsync(waitParams, stopping).AsTask();
            }

            JobsClaimResult result;
            try
            {
                result = await store.JobsClaimAsync(new JobsClaimParams
                {
                    WorkerId = workerId,
                    Queues = claims,
                    Max = total,
                    LeaseDuration = worker.LeaseDuration,
                    TaskLimits = taskLimits,
                }, CancellationToken.None).ConfigureAwait(false); // never abandon a claim half-way: its jobs would sit leased until rescued
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.JobsClaimAsync));
                await Task.Delay(worker.PollInterval, time, stopping).ConfigureAwait(false);
                continue;
            }

            foreach (var job in result.Jobs)
            {
                Start(job);
            }

            if (result.Jobs.Count >= total)
            {
                continue;
            }

            var delay = worker.PollInterval;
            if (result.NextDueIn is { } untilDue && untilDue < delay)
            {
                // A duration by the store's clock: the engine's clock may disagree with the store's about instants.
                delay = untilDue > TimeSpan.Zero ? untilDue : TimeSpan.FromMilliseconds(1);
            }

            using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var timer = Task.Delay(delay, time, sleep.Token);
            // When a queue or task cap held the claim back, a freed slot may unblock a waiting job: wake on it as well.
            await (constrained ? Task.WhenAny(wake, timer, slotWait) : Task.WhenAny(wake, timer)).ConfigureAwait(false);
            await sleep.CancelAsync().ConfigureAwait(false);
        }
    }

    private (QueueClaim[] Claims, int Total, Dictionary<string, int>? TaskLimits, bool Constrained) Capacity()
    {
        lock (runningPerQueue)
        {
            var free = worker.Concurrency - running;
            if (free <= 0)
            {
                return ([], 0, null, true);
            }

            var constrained = false;

            var claims = new List<QueueClaim>(queueNames.Length);
            var total = 0;
            foreach (var queue in queueNames)
            {
                var max = free;
                if (worker.QueueConcurrency.TryGetValue(queue, out var limit))
                {
                    max = Math.Min(max, limit - runningPerQueue.GetValueOrDefault(queue));
                    constrained |= max < free;
                }

                if (max > 0)
                {
                    claims.Add(new QueueClaim(queue, max));
                    total += max;
                }
            }

            total = Math.Min(total, free);
            Dictionary<string, int>? taskLimits = null;
            foreach (var (task, limit) in cappedTasks)
            {
                taskLimits ??= new(StringComparer.Ordinal);
                taskLimits[task] = Math.Max(0, limit - runningPerTask.GetValueOrDefault(task));
                constrained |= taskLimits[task] < free;
            }

            return (claims.ToArray(), total, taskLimits, constrained);
        }
    }

    private void Start(JobRecord job)
    {
        var execution = new Execution(this, job);
        lock (runningPerQueue)
        {
            running++;
            executions[job.Id] = execution;
            runningPerQueue[job.Queue] = runningPerQueue.GetValueOrDefault(job.Queue) + 1;
            runningPerTask[job.TaskName] = runningPerTask.GetValueOrDefault(job.TaskName) + 1;
        }

        leases[job.Id] = new JobLease(job.Ref, job.LeaseToken!.Value);
        localJobs.Add(job.Id, execution);
        // Queued as its own work item (no Task.Run closure, wrapper and proxy task per job); shutdown waits for the
        // running count to reach zero instead of for per-job tasks.
        ThreadPool.UnsafeQueueUserWorkItem(execution, preferLocal: false);
    }

    private async Task RunAsync(Execution execution)
    {
        var job = execution.Job;
        var handedOff = false;
        try
        {
            handedOff = await AttemptAsync(execution).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Only instrumentation or logging can get here (handler failures are outcomes). The lease is let go, so
            // the rescuer returns the job to its queue once the lease expires.
            Log.AttemptCrashed(logger, ex, job.Id);
        }
        finally
        {
            if (!handedOff)
            {
                ForgetLease(job);
            }

            localJobs.Remove(job.Id, execution);
            FreeSlot(execution);
        }
    }

    /// <summary>Runs one attempt and hands its outcome to the completer; returns whether it did.</summary>
    private async Task<bool> AttemptAsync(Execution execution)
    {
        var job = execution.Job;
        var tags = TypedJobsMetrics.Tags(job.TaskName, job.Queue);
        var startedAt = time.GetUtcNow();
        var startTimestamp = time.GetTimestamp();
        metrics.Started.Add(1, tags);
        metrics.Running.Add(1, tags);
        metrics.WaitTime.Record(Math.Max(0, ((job.StartedAt ?? job.DueAt) - job.DueAt).TotalSeconds), tags);
        if (hub.IsObserved(job.Id))
        {
            hub.Publish(new JobEvent
            {
                Kind = JobEventKind.Started,
                JobId = job.Id,
                TaskName = job.TaskName,
                Queue = job.Queue,
                Attempt = job.Attempt,
                Timestamp = startedAt,
                WorkerId = workerId,
            });
        }

        using var activity = StartActivity(job);
        Outcome outcome;
        JobTask? task = null;
        ITimer? timeoutTimer = null;
        try
        {
            if (!registry.TryGet(job.TaskName, out task))
            {
                throw new UnknownTaskException(job.TaskName);
            }

            if (task.Settings.Timeout is { } timeout)
            {
                timeoutTimer = time.CreateTimer(static s => ((Execution)s!).Cancel(StopReason.Timeout), execution, timeout, Timeout.InfiniteTimeSpan);
            }

            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var context = new JobContext(job.Id, job.TaskName, job.Queue, job.Priority, job.Attempt, job.MaxRetries, job.CreatedAt,
                    workerId, scope.ServiceProvider, execution.Token);
                var result = await task.InvokeAsync(job.Payload, context).ConfigureAwait(false);
                var ttl = task.Settings.ResultRetention ?? options.ResultRetention;
                outcome = new Outcome(job, AttemptOutcome.Succeeded, JobTransitions.Succeeded(job, storage.ResultsWithJobs ? result : null, ttl), task)
                {
                    Result = storage.ResultsWithJobs || storage.Results is null ? null : result,
                    ResultTtl = ttl,
                };
            }
        }
        catch (Exception ex)
        {
            outcome = Classify(job, task, execution, ex);
        }
        finally
        {
            if (timeoutTimer is not null)
            {
                await timeoutTimer.DisposeAsync().ConfigureAwait(false);
            }
        }

        outcome.Duration = time.GetElapsedTime(startTimestamp);
        if (execution.Reason is StopReason.LeaseLost or StopReason.Cancelled)
        {
            // The store no longer gives this worker the job (cancelled, deleted or rescued): discard the outcome.
            outcome.Kind = null;
        }

        activity?.SetTag("typedjobs.outcome", outcome.Kind?.ToString() ?? "Discarded");
        if (outcome.Kind is AttemptOutcome.Dead or AttemptOutcome.Retry)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Error);
        }

        metrics.Running.Add(-1, tags);
        metrics.Duration.Record(outcome.Duration.TotalSeconds, tags);
        if (outcome.Kind is null)
        {
            Log.LeaseLost(logger, job.Id);
            return false;
        }

        return outcomes.Writer.TryWrite(outcome);
    }

    /// <summary>Stops extending the lease of this claim of <paramref name="job"/> (not of a later claim of the same job).</summary>
    private void ForgetLease(JobRecord job) => leases.TryRemove(KeyValuePair.Create(job.Id, new JobLease(job.Ref, job.LeaseToken!.Value)));

    /// <summary>Frees the execution's slot; always runs, whatever happened to the attempt.</summary>
    private void FreeSlot(Execution execution)
    {
        var job = execution.Job;
        bool empty;
        int free;
        lock (runningPerQueue)
        {
            executions.TryRemove(KeyValuePair.Create(job.Id, execution));
            runningPerQueue[job.Queue]--;
            runningPerTask[job.TaskName]--;
            running--;
            empty = running == 0;
            free = worker.Concurrency - running;
        }

        execution.Dispose();
        if (empty)
        {
            Volatile.Read(ref drained)?.TrySetResult();
        }

        // Wake the producer once enough slots are free to make a claim worth a store call, so claims stay batched
        // under load; below that it is woken by the next finishing job (or at once when the worker runs dry).
        // A job of a capped queue or task wakes it at once: its slot may be the one a waiting job of that cap needs.
        if (free >= refillThreshold || empty || worker.QueueConcurrency.ContainsKey(job.Queue)
            || cappedTasks.ContainsKey(job.TaskName))
        {
            slotFreed.Set();
        }
    }

    private Outcome Classify(JobRecord job, JobTask? task, Execution execution, Exception ex)
    {
        var reason = execution.Reason;
        if (ex is OperationCanceledException && reason == StopReason.Shutdown)
        {
            return new Outcome(job, AttemptOutcome.Release, JobTransitions.Release(job), task);
        }

        if (ex is SnoozeJobException snooze)
        {
            return new Outcome(job, AttemptOutcome.Snooze, JobTransitions.Snooze(job, snooze.Delay), task) { Delay = snooze.Delay };
        }

        string error;
        if (ex is OperationCanceledException && reason == StopReason.Timeout)
        {
            error = $"The attempt timed out after {task?.Settings.Timeout}.";
        }
        else
        {
            error = ex.ToString();
            if (error.Length > MaxErrorLength)
            {
                error = error[..MaxErrorLength];
            }
        }

        var settings = task?.Settings;
        var backoff = RetryBackoff.Delay(job.Attempt, settings?.RetryDelay ?? options.DefaultRetryDelay,
            settings?.MaxRetryDelay ?? options.DefaultMaxRetryDelay, Random.Shared.NextDouble());
        var (kind, completion) = JobTransitions.Failed(job, error, ex is InvalidPayloadException or PermanentJobFailureException, backoff);
        return new Outcome(job, kind, completion, task)
        {
            Error = error,
            Delay = kind == AttemptOutcome.Retry ? backoff : TimeSpan.Zero,
            Failed = true,
            Exception = ex,
        };
    }

    private static Activity? StartActivity(JobRecord job)
    {
        var source = TypedJobsDiagnostics.ActivitySource;
        if (!source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(job.TraceParent, job.TraceState, isRemote: true, out var parent);
        var activity = source.StartActivity("run " + job.TaskName, ActivityKind.Consumer, parent);
        activity?.SetTag("typedjobs.task", job.TaskName);
        activity?.SetTag("typedjobs.queue", job.Queue);
        activity?.SetTag("typedjobs.job_id", job.Id.ToString());
        activity?.SetTag("typedjobs.attempt", job.Attempt);
        return activity;
    }

    private async Task CompleteLoopAsync()
    {
        var reader = outcomes.Reader;
        var batch = new List<Outcome>(worker.CompletionBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < worker.CompletionBatchSize && reader.TryRead(out var outcome))
            {
                batch.Add(outcome);
            }

            await WriteOutcomesAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task WriteOutcomesAsync(List<Outcome> batch)
    {
        List<ResultWrite>? results = null;
        var completions = new JobCompletion[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var o = batch[i];
            completions[i] = o.Completion;
            if (o.Result is not null)
            {
                // The results role lives elsewhere: the result is keyed by the attempt's lease token, and the completion
                // records that token on the job, so a result a stale attempt writes is never the one returned.
                (results ??= []).Add(new ResultWrite(o.Job.Id, o.Job.LeaseToken!.Value, o.Result, o.ResultTtl));
            }
        }

        JobsCompleteResult? written = null;
        for (var attempt = 1; written is null; attempt++)
        {
            try
            {
                // Results first: once a job shows Succeeded, its result is readable.
                if (results is { Count: > 0 })
                {
                    await storage.Results!.ResultsSetAsync(new ResultsSetParams(results), CancellationToken.None).ConfigureAwait(false);
                    results = null;
                }

                written = await storage.Jobs.JobsCompleteAsync(new JobsCompleteParams(completions), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < 10)
            {
                Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.JobsCompleteAsync));
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The leases will expire and the rescuer will return these jobs to their queues.
                Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.JobsCompleteAsync));
                foreach (var o in batch)
                {
                    ForgetLease(o.Job);
                }

                return;
            }
        }

        var now = time.GetUtcNow();
        for (var i = 0; i < batch.Count; i++)
        {
            var o = batch[i];
            ForgetLease(o.Job);
            if (!written.Applied[i])
            {
                Log.LeaseLost(logger, o.Job.Id);
                continue;
            }

            Report(o, now);
        }
    }

    private void Report(Outcome o, DateTimeOffset now)
    {
        var job = o.Job;
        var tags = TypedJobsMetrics.Tags(job.TaskName, job.Queue);
        var observed = hub.IsObserved(job.Id);
        JobEvent Event(JobEventKind kind) => new()
        {
            Kind = kind,
            JobId = job.Id,
            TaskName = job.TaskName,
            Queue = job.Queue,
            Attempt = job.Attempt,
            Timestamp = now,
            WorkerId = workerId,
            Error = o.Error,
            Duration = o.Duration,
            Delay = kind is JobEventKind.Retried or JobEventKind.Snoozed ? o.Delay : null,
        };

        void Publish(JobEventKind kind)
        {
            if (observed)
            {
                hub.Publish(Event(kind));
            }
        }

        if (o.Failed)
        {
            metrics.Failed.Add(1, tags);
            Publish(JobEventKind.Failed);
        }

        switch (o.Kind)
        {
            case AttemptOutcome.Succeeded:
                metrics.Succeeded.Add(1, tags);
                Log.JobSucceeded(logger, job.Id, job.TaskName, o.Duration);
                Publish(JobEventKind.Succeeded);
                break;
            case AttemptOutcome.Retry:
                metrics.Retried.Add(1, tags);
                Log.JobRetrying(logger, o.Exception, job.Id, job.TaskName, job.Attempt, o.Delay);
                Publish(JobEventKind.Retried);
                break;
            case AttemptOutcome.Dead:
                metrics.Dead.Add(1, tags);
                Log.JobDead(logger, o.Exception, job.Id, job.TaskName, job.Attempt, o.Exception?.Message ?? o.Error ?? "");
                Publish(JobEventKind.Dead);
                break;
            case AttemptOutcome.Snooze:
                Publish(JobEventKind.Snoozed);
                break;
            case AttemptOutcome.Release:
                Interlocked.Increment(ref released);
                Publish(JobEventKind.Released);
                break;
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken token)
    {
        var interval = worker.EffectiveHeartbeat;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, token).ConfigureAwait(false);
                await RegisterAsync(token).ConfigureAwait(false);
                if (leases.IsEmpty)
                {
                    continue;
                }

                var held = leases.Values.ToArray();
                var result = await storage.Jobs.LeasesExtendAsync(new LeasesExtendParams(workerId, held, worker.LeaseDuration), token)
                    .ConfigureAwait(false);
                foreach (var lost in result.Lost)
                {
                    // Only the run that held the reported lease: the same job may have been claimed again since.
                    if (executions.TryGetValue(lost.Job.Id, out var execution) && execution.Job.LeaseToken == lost.LeaseToken)
                    {
                        ForgetLease(execution.Job);
                        execution.Cancel(StopReason.LeaseLost);
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.LeasesExtendAsync));
            }
        }
    }

    /// <summary>Registers this worker in the store's worker registry (or refreshes its entry).</summary>
    private async Task RegisterAsync(CancellationToken token)
    {
        int runningNow;
        lock (runningPerQueue)
        {
            runningNow = running;
        }

        await storage.Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(registration with { Running = runningNow }), token).ConfigureAwait(false);
    }

    private async Task RescueLoopAsync(CancellationToken token)
    {
        var lastMaintenance = time.GetUtcNow();
        while (!token.IsCancellationRequested)
        {
            try
            {
                await RescueOnceAsync(token).ConfigureAwait(false);
                if (time.GetUtcNow() - lastMaintenance >= worker.MaintenanceInterval)
                {
                    lastMaintenance = time.GetUtcNow();
                    await MaintainAsync(token).ConfigureAwait(false);
                }

                await Task.Delay(worker.RescueInterval, time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.JobsRescueAsync));
                try
                {
                    await Task.Delay(worker.RescueInterval, time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    internal async Task RescueOnceAsync(CancellationToken token)
    {
        var rescued = await storage.Jobs.JobsRescueAsync(new JobsRescueParams(1000), token).ConfigureAwait(false);
        if (rescued.Jobs.Count == 0)
        {
            return;
        }

        Log.Rescued(logger, rescued.Jobs.Count);
        var now = time.GetUtcNow();
        foreach (var job in rescued.Jobs)
        {
            var tags = TypedJobsMetrics.Tags(job.TaskName, job.Job.Queue);
            metrics.Rescued.Add(1, tags);
            hub.Publish(new JobEvent { Kind = JobEventKind.Rescued, JobId = job.Job.Id, TaskName = job.TaskName, Queue = job.Job.Queue, Attempt = job.Attempt, Timestamp = now, WorkerId = job.WorkerId });
            if (job.NewState == JobState.Dead)
            {
                metrics.Dead.Add(1, tags);
                hub.Publish(new JobEvent { Kind = JobEventKind.Dead, JobId = job.Job.Id, TaskName = job.TaskName, Queue = job.Job.Queue, Attempt = job.Attempt, Timestamp = now, Error = StorageRules.RescuedDeadError(job.WorkerId) });
            }
        }
    }

    private async Task MaintainAsync(CancellationToken token)
    {
        const string lockName = "typedjobs:maintenance";
        var locked = await storage.Locks.LocksAcquireAsync(new LocksAcquireParams(lockName, workerId, worker.MaintenanceInterval), token)
            .ConfigureAwait(false);
        if (!locked.Acquired)
        {
            return;
        }

        var jobs = 0;
        if (options.SucceededRetention > TimeSpan.Zero)
        {
            jobs += await PruneAllAsync(max => storage.Admin.JobsPruneAsync(
                new JobsPruneParams([JobState.Succeeded, JobState.Cancelled], options.SucceededRetention, max), token), r => r.Deleted).ConfigureAwait(false);
        }

        if (options.DeadRetention > TimeSpan.Zero)
        {
            jobs += await PruneAllAsync(max => storage.Admin.JobsPruneAsync(
                new JobsPruneParams([JobState.Dead], options.DeadRetention, max), token), r => r.Deleted).ConfigureAwait(false);
        }

        var results = storage.Results is { } resultStore
            ? await PruneAllAsync(max => resultStore.ResultsPruneAsync(new ResultsPruneParams(max), token), r => r.Deleted).ConfigureAwait(false)
            : 0;
        var events = 0;
        var keep = TimeSpan.FromTicks(Math.Max(options.SucceededRetention.Ticks, options.DeadRetention.Ticks));
        if (options.RecordEvents && storage.Events is { } eventStore && keep > TimeSpan.Zero)
        {
            events = await PruneAllAsync(max => eventStore.EventsPruneAsync(new EventsPruneParams(keep, max), token), r => r.Deleted).ConfigureAwait(false);
        }

        await storage.Admin.WorkersPruneAsync(new WorkersPruneParams(TimeSpan.FromTicks(worker.LeaseDuration.Ticks * 10)), token).ConfigureAwait(false);
        await storage.Admin.StatsPruneAsync(new StatsPruneParams(StorageRules.MaxThroughputWindow), token).ConfigureAwait(false);
        if (jobs + results + events > 0)
        {
            Log.Pruned(logger, jobs, results, events);
        }
    }

    /// <summary>Prunes in batches until a batch comes back short (bounded per pass).</summary>
    private static async Task<int> PruneAllAsync<T>(Func<int, ValueTask<T>> prune, Func<T, int> deleted)
    {
        const int batch = 10_000;
        const int maxBatches = 100;
        var total = 0;
        for (var i = 0; i < maxBatches; i++)
        {
            var n = deleted(await prune(batch).ConfigureAwait(false));
            total += n;
            if (n < batch)
            {
                break;
            }
        }

        return total;
    }

    private async Task ShutdownAsync()
    {
        // The producer has stopped, so no job starts any more: wait for the running count to reach zero.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref drained, done);
        lock (runningPerQueue)
        {
            if (running == 0)
            {
                return;
            }
        }

        var all = done.Task;
        if (worker.ShutdownTimeout > TimeSpan.Zero)
        {
            using var cts = new CancellationTokenSource();
            await Task.WhenAny(all, Task.Delay(worker.ShutdownTimeout, time, cts.Token)).ConfigureAwait(false);
            await cts.CancelAsync().ConfigureAwait(false);
        }

        if (!all.IsCompleted)
        {
            foreach (var execution in executions.Values)
            {
                execution.Cancel(StopReason.Shutdown);
            }

            await all.ConfigureAwait(false);
        }
    }

    private enum StopReason
    {
        None,
        Cancelled,
        LeaseLost,
        Timeout,
        Shutdown,
    }

    private sealed class Execution(JobWorker owner, JobRecord job) : IDisposable, ILocalJob, IThreadPoolWorkItem
    {
        private readonly CancellationTokenSource cts = new();
        private int reason;

        public JobRecord Job { get; } = job;

        public CancellationToken Token => cts.Token;

        public StopReason Reason => (StopReason)Volatile.Read(ref reason);

        public void Cancel(StopReason why)
        {
            if (Interlocked.CompareExchange(ref reason, (int)why, (int)StopReason.None) == (int)StopReason.None)
            {
                try
                {
                    cts.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public void Dispose() => cts.Dispose();

        void IThreadPoolWorkItem.Execute() => _ = owner.RunAsync(this);

        void ILocalJob.Cancel() => Cancel(StopReason.Cancelled);
    }

    private sealed class Outcome(JobRecord job, AttemptOutcome? kind, JobCompletion completion, JobTask? task)
    {
        public JobRecord Job { get; } = job;

        public AttemptOutcome? Kind { get; set; } = kind;

        public JobCompletion Completion { get; } = completion;

        /// <summary>A result to write to a results store that is not the jobs store (keyed by the attempt's lease token).</summary>
        public byte[]? Result { get; init; }

        public TimeSpan ResultTtl { get; init; }

        public JobTask? Task { get; } = task;

        public TimeSpan Delay { get; init; }

        public string? Error { get; init; }

        public bool Failed { get; init; }

        public Exception? Exception { get; init; }

        public TimeSpan Duration { get; set; }
    }
}
