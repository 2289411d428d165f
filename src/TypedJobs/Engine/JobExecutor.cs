using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// Runs attempts: each claimed job on the thread pool (in its own DI scope when the handler asks for services), with its timeout, its log scope and its
/// trace, and turns how it ended into the engine's decision (<see cref="JobTransitions"/>). An attempt finishes exactly
/// once: when its handler returns, or — for a handler that ignores its cancellation — when the engine gives it up after
/// <see cref="WorkerOptions.AbandonGrace"/> (a timed-out job is then failed as timed out; at shutdown it is released).
/// </summary>
internal sealed class JobExecutor(
    StorageSet storage,
    TaskRegistry registry,
    TypedJobsOptions options,
    WorkerOptions worker,
    WorkerSlots slots,
    LeaseKeeper leases,
    OutcomeWriter writer,
    JobEventHub hub,
    LocalJobs localJobs,
    TypedJobsMetrics metrics,
    TimeProvider time,
    IServiceScopeFactory scopes,
    string workerId,
    ILogger logger)
{
    private const int MaxErrorLength = 4000;

    /// <summary>The id of the worker these attempts run in.</summary>
    public string WorkerId => workerId;

    /// <summary>Creates an attempt's DI scope when its handler first asks for services.</summary>
    public IServiceScopeFactory Scopes => scopes;

    /// <summary>The started attempts that have not finished (every one holds a lease the lease keeper tracks).</summary>
    public Execution[] Running() => leases.Held().Where(static e => e.Launched && !e.IsFinished).ToArray();

    /// <summary>
    /// Starts a claimed job, or holds it until a slot frees (prefetched); <paramref name="claimSentAt"/> is when the claim
    /// was sent (its lease is proven from then).
    /// </summary>
    public void Start(JobRecord job, long claimSentAt)
    {
        var execution = new Execution(this, job);
        leases.Track(execution, claimSentAt);
        localJobs.Add(job.Id, execution);
        if (slots.TakeOrPrefetch(execution))
        {
            Launch(execution);
        }
    }

    /// <summary>
    /// Shutdown: the prefetched jobs that never got a slot go back to their queues without using an attempt (those the
    /// store cancelled, or whose lease is lost, are only let go).
    /// </summary>
    public void ReleasePrefetched()
    {
        foreach (var execution in slots.Stop())
        {
            if (!execution.TryFinish())
            {
                continue;
            }

            localJobs.Remove(execution.Job.Id, execution);
            if (execution.Reason is StopReason.Cancelled or StopReason.LeaseLost)
            {
                leases.Forget(execution.Lease);
            }
            else
            {
                writer.Enqueue(ReleaseOutcome(execution));
            }

            execution.Dispose();
        }
    }

    private void Launch(Execution execution)
    {
        execution.Launched = true;

        // Queued as its own work item (no Task.Run closure, wrapper and proxy task per job).
        ThreadPool.UnsafeQueueUserWorkItem(execution, preferLocal: false);
    }

    /// <summary>Starts a held attempt that took a slot once outcomes were written (<see cref="WorkerSlots.Promoted"/>).</summary>
    public void LaunchPromoted(Execution execution) => LaunchNext(execution);

    /// <summary>
    /// Starts the prefetched attempt that took a freed slot. One stopped while it waited (cancelled by the store, or its
    /// lease unprovable) never runs: it is let go and the slot passes to the next.
    /// </summary>
    private void LaunchNext(Execution? next)
    {
        while (next is not null)
        {
            if (next.Reason == StopReason.None)
            {
                Launch(next);
                return;
            }

            _ = next.TryFinish();
            localJobs.Remove(next.Job.Id, next);
            leases.Forget(next.Lease);
            next.Dispose();
            next = slots.Give(next.Job);
        }
    }

    /// <summary>
    /// Runs a claimed job in the caller's flow (the testing kit's manual step) and returns its outcome, and whether the
    /// attempt was cancelled (the store finished the job meanwhile, so no outcome was written).
    /// </summary>
    public async Task<(Outcome? Outcome, bool Cancelled)> RunInlineAsync(JobRecord job, long claimSentAt)
    {
        var execution = new Execution(this, job);
        slots.Take(job);
        execution.Launched = true;

        leases.Track(execution, claimSentAt);
        localJobs.Add(job.Id, execution);
        var outcome = await RunAsync(execution).ConfigureAwait(false);
        return (outcome, execution.Reason == StopReason.Cancelled);
    }

    /// <summary>Runs an attempt started on the thread pool; nothing waits for it (its outcome goes to the writer).</summary>
    public void RunDetached(Execution execution)
    {
        var run = RunAsync(execution);
        if (!run.IsCompleted)
        {
            // Never faults (RunAsync catches everything); a handler that finished synchronously allocated no task at all.
            _ = run.AsTask();
        }
    }

    public async ValueTask<Outcome?> RunAsync(Execution execution)
    {
        Outcome? outcome = null;
        try
        {
            outcome = await AttemptAsync(execution).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Only instrumentation or logging can get here (handler failures are outcomes): the lease is let go, so
            // rescue returns the job to its queue once it expires.
            Log.AttemptCrashed(logger, ex, execution.Job.Id);
        }
        finally
        {
            Finish(execution, outcome);
            execution.Dispose();
        }

        return outcome;
    }

    /// <summary>
    /// Gives up an attempt whose handler ignores its cancellation: <paramref name="outcome"/> (a timeout failure, or a
    /// release at shutdown) is written in its place and its slot is free. Returns whether it was still running.
    /// </summary>
    public bool Abandon(Execution execution, Outcome outcome)
    {
        if (execution.IsFinished)
        {
            return false;
        }

        Log.AttemptAbandoned(logger, execution.Job.Id, execution.Job.TaskName, execution.Reason, worker.AbandonGrace);
        return Finish(execution, outcome);
    }

    public Outcome ReleaseOutcome(Execution execution) =>
        new(execution.Job, AttemptOutcome.Release, JobTransitions.Release(execution.Job), execution.Task);

    private bool Finish(Execution execution, Outcome? outcome)
    {
        if (!execution.TryFinish())
        {
            // Given up on earlier: this late handler's outcome is discarded.
            return false;
        }

        localJobs.Remove(execution.Job.Id, execution);
        if (outcome is null || execution.Reason == StopReason.Cancelled)
        {
            // Crashed outside the handler, or cancelled (the store already finished the job): nothing to write.
            leases.Forget(execution.Lease);
        }
        else
        {
            // Written fenced by the lease: if the lease was lost meanwhile the store refuses it, which is the right end.
            writer.Enqueue(outcome);
        }

        LaunchNext(slots.Give(execution.Job));
        return true;
    }

    private async ValueTask<Outcome> AttemptAsync(Execution execution)
    {
        var job = execution.Job;
        var tags = TypedJobsMetrics.Tags(job.TaskName, job.Queue);
        var startTimestamp = time.GetTimestamp();
        metrics.Started.Add(1, tags);
        metrics.Running.Add(1, tags);
        metrics.WaitTime.Record(Math.Max(0, ((job.StartedAt ?? job.DueAt) - job.DueAt).TotalSeconds), tags);
        // The attempt is the scope's state (its job's id, task, queue, attempt and this worker): no object of its own.
        var logScope = logger.BeginScope(execution);
        Activity? activity = null;
        try
        {
            if (hub.IsObserved(job.Id))
            {
                hub.Publish(new JobEvent
                {
                    Kind = JobEventKind.Started,
                    JobId = job.Id,
                    TaskName = job.TaskName,
                    Queue = job.Queue,
                    Attempt = job.Attempt,
                    Timestamp = time.GetUtcNow(),
                    WorkerId = workerId,
                });
            }

            activity = StartActivity(job);
            Outcome outcome;
            ITimer? timeoutTimer = null;
            try
            {
                if (!registry.TryGet(job.TaskName, out var task))
                {
                    var (kind, completion) = JobTransitions.UnknownTask(job, workerId, options.UnknownTaskGracePeriod, options.UnknownTaskRetryDelay);
                    Log.UnknownTask(logger, job.Id, job.TaskName, workerId);
                    outcome = new Outcome(job, kind, completion, null);
                }
                else
                {
                    execution.Task = task;
                    if (task.Settings.Timeout is { } timeout)
                    {
                        timeoutTimer = time.CreateTimer(static s =>
                        {
                            var (executor, e) = ((JobExecutor, Execution))s!;
                            executor.TimedOut(e);
                        }, (this, execution), timeout, Timeout.InfiniteTimeSpan);
                    }

                    // The context gets its services from the attempt, which creates the DI scope only if the handler asks.
                    var context = new JobContext(execution);
                    byte[]? result;
                    try
                    {
                        result = await task.InvokeAsync(job.Payload, context).ConfigureAwait(false);
                    }
                    finally
                    {
                        await EndScopeAsync(execution).ConfigureAwait(false);
                    }

                    var ttl = JobTransitions.Capped(task.Settings.ResultRetention ?? options.ResultRetention);
                    outcome = new Outcome(job, AttemptOutcome.Succeeded, JobTransitions.Succeeded(job, storage.ResultsWithJobs ? result : null, ttl), task,
                        separateResult: storage.ResultsWithJobs || storage.Results is null ? null : result, separateResultTtl: ttl);
                }
            }
            catch (Exception ex)
            {
                outcome = Classify(execution, ex);
            }
            finally
            {
                if (timeoutTimer is not null)
                {
                    await timeoutTimer.DisposeAsync().ConfigureAwait(false);
                }
            }

            outcome.Duration = time.GetElapsedTime(startTimestamp);
            try
            {
                activity?.SetTag("typedjobs.outcome", outcome.Kind.ToString());
                if (outcome.Kind is AttemptOutcome.Dead or AttemptOutcome.Retry)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, outcome.Error);
                }

                metrics.Running.Add(-1, tags);
                metrics.Duration.Record(outcome.Duration.TotalSeconds, tags);
            }
            catch (Exception ex)
            {
                // A metrics listener threw: the outcome is decided and is written all the same.
                Log.InstrumentationFailed(logger, ex, job.Id);
            }

            return outcome;
        }
        finally
        {
            // Listeners run in these disposals: one that throws must not turn a decided outcome into a crashed attempt.
            EndInstrumentation(activity, job.Id);
            EndInstrumentation(logScope, job.Id);
        }
    }

    private void EndInstrumentation(IDisposable? disposable, JobId jobId)
    {
        try
        {
            disposable?.Dispose();
        }
        catch (Exception ex)
        {
            Log.InstrumentationFailed(logger, ex, jobId);
        }
    }

    /// <summary>
    /// Disposes the attempt's DI scope. A disposal that throws is logged: it does not change how the handler ended (a
    /// success whose scoped services fail to dispose has still done its work, and must not run again).
    /// </summary>
    private async ValueTask EndScopeAsync(Execution execution)
    {
        try
        {
            await execution.EndScopeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.ScopeDisposeFailed(logger, ex, execution.Job.Id);
        }
    }

    /// <summary>Callbacks the handler registered on its cancellation token threw while the attempt was being stopped.</summary>
    public void CancellationCallbacksFailed(Execution execution, AggregateException exception) =>
        Log.CancellationCallbacksFailed(logger, exception, execution.Job.Id, execution.Reason);

    /// <summary>The timeout fired: cancel the handler, and give it up if it ignores that for longer than the grace.</summary>
    private void TimedOut(Execution execution)
    {
        execution.Cancel(StopReason.Timeout);
        _ = AbandonLaterAsync(execution);
    }

    private async Task AbandonLaterAsync(Execution execution)
    {
        try
        {
            await Task.Delay(worker.AbandonGrace, time).ConfigureAwait(false);
            // Whatever stopped the attempt first (a cancel, a lost lease, the timeout itself), a handler that still runs
            // after the timeout and the grace is given up, so it cannot hold its slot for good.
            if (!execution.IsFinished)
            {
                Abandon(execution, Classify(execution, new OperationCanceledException(execution.Token)));
            }
        }
        catch (Exception ex)
        {
            Log.AttemptCrashed(logger, ex, execution.Job.Id);
        }
    }

    private Outcome Classify(Execution execution, Exception ex)
    {
        var job = execution.Job;
        var task = execution.Task;
        var reason = execution.Reason;
        if (ex is OperationCanceledException && reason is StopReason.Shutdown or StopReason.LeaseLost)
        {
            // The worker stopped the attempt itself (shutdown, or a lease it could not prove): no attempt is used.
            return ReleaseOutcome(execution);
        }

        if (ex is SnoozeJobException snooze)
        {
            return new Outcome(job, AttemptOutcome.Snooze, JobTransitions.Snooze(job, snooze.Delay), task);
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
        return new Outcome(job, kind, completion, task) { Exception = ex };
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
}
