using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// Writes the outcomes of attempts in batches, each fenced by its lease token. It never gives an outcome up while the
/// worker runs: a failed write is retried with backoff, and the lease keeper keeps the outcome's lease alive meanwhile
/// (and if the lease is lost anyway, the store refuses the late write, which is exactly right). Reporting an applied
/// outcome (metrics, events, logs) can fail without stopping the loop. At shutdown it keeps trying for a bounded time.
/// </summary>
internal sealed class OutcomeWriter(
    StorageSet storage,
    WorkerSlots slots,
    LeaseKeeper leases,
    WorkerOptions worker,
    JobEventHub hub,
    TypedJobsMetrics metrics,
    TimeProvider time,
    string workerId,
    ILogger logger)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private readonly Channel<Outcome> outcomes = Channel.CreateUnbounded<Outcome>(new UnboundedChannelOptions { SingleReader = true });
    // On the worker's clock, like every other wait of the engine.
    private readonly CancellationTokenSource giveUp = new(Timeout.InfiniteTimeSpan, time);
    private readonly object deadlineGate = new();
    private DateTimeOffset giveUpAt = DateTimeOffset.MaxValue;

    // Buffers of the one batch being written (the loop, or a manual flush when the loop does not run), reused.
    private readonly List<Outcome> pending = [];
    private readonly List<Outcome> dropped = [];
    private readonly List<JobCompletion> completions = [];
    private int released;

    /// <summary>How many attempts were returned to their queues at shutdown.</summary>
    public int Released => Volatile.Read(ref released);

    public void Enqueue(Outcome outcome)
    {
        slots.OutcomePending();
        if (!outcomes.Writer.TryWrite(outcome))
        {
            // Only after shutdown completed the channel: the lease expires and rescue returns the job.
            slots.OutcomeWritten(1);
            leases.Forget(outcome.Lease);
        }
    }

    public async Task RunAsync()
    {
        var reader = outcomes.Reader;
        var batch = new List<Outcome>(worker.CompletionBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < worker.CompletionBatchSize && reader.TryRead(out var outcome))
            {
                batch.Add(outcome);
            }

            try
            {
                await WriteAsync(batch).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Only a bug can get here (store errors are retried inside); the loop must survive it.
                Log.OutcomeWriterFailed(logger, ex, workerId, batch.Count);
            }
            finally
            {
                slots.OutcomeWritten(batch.Count);
                batch.Clear();
            }
        }
    }

    /// <summary>Writes every queued outcome now, in the caller's flow (for a worker whose loops do not run).</summary>
    public async Task FlushAsync()
    {
        var batch = new List<Outcome>();
        while (outcomes.Reader.TryRead(out var outcome))
        {
            batch.Add(outcome);
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await WriteAsync(batch).ConfigureAwait(false);
        }
        finally
        {
            slots.OutcomeWritten(batch.Count);
        }
    }

    /// <summary>No more outcomes will come; the loop ends once the queued ones are written or <paramref name="deadline"/> passes.</summary>
    public void Complete(TimeSpan deadline)
    {
        outcomes.Writer.TryComplete();
        GiveUpWithin(deadline);
    }

    /// <summary>Brings the time at which failed writes are given up forward to <paramref name="within"/> from now; never later.</summary>
    public void GiveUpWithin(TimeSpan within)
    {
        lock (deadlineGate)
        {
            var at = time.GetUtcNow() + within;
            if (at < giveUpAt)
            {
                giveUpAt = at;
                giveUp.CancelAfter(within);
            }
        }
    }

    private async Task WriteAsync(List<Outcome> batch)
    {
        List<ResultWrite>? results = null;
        foreach (var o in batch)
        {
            if (o.Result is not null)
            {
                // The results role lives elsewhere: the result is keyed by the attempt's lease token, and the completion
                // records that token on the job, so a result a stale attempt writes is never the one read.
                (results ??= []).Add(new ResultWrite(o.Job.Id, o.Job.LeaseToken!.Value, o.Result, o.ResultTtl));
            }
        }

        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            // Outcomes whose lease the store already reported lost would be refused: drop them instead of retrying them.
            pending.Clear();
            dropped.Clear();
            completions.Clear();
            foreach (var o in batch)
            {
                if (leases.Holds(o.Lease))
                {
                    pending.Add(o);
                    completions.Add(o.Completion);
                }
                else
                {
                    dropped.Add(o);
                }
            }

            if (pending.Count == 0)
            {
                foreach (var o in batch)
                {
                    leases.Forget(o.Lease);
                    Log.LeaseLost(logger, o.Job.Id);
                }

                return;
            }

            try
            {
                if (results is { Count: > 0 })
                {
                    await storage.Results!.ResultsSetAsync(new ResultsSetParams(results), CancellationToken.None).ConfigureAwait(false);
                    results = null;
                }

                // The completions list is reused from batch to batch: a store reads its parameters during the call only.
                var written = await storage.Jobs.JobsCompleteAsync(new JobsCompleteParams(completions), CancellationToken.None).ConfigureAwait(false);
                Finish(pending, written);
                foreach (var o in dropped)
                {
                    leases.Forget(o.Lease);
                    Log.LeaseLost(logger, o.Job.Id);
                }

                return;
            }
            catch (Exception ex)
            {
                if (attempt == 1 || attempt % 20 == 0)
                {
                    Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.JobsCompleteAsync));
                }

                if (giveUp.IsCancellationRequested)
                {
                    // Shutting down and out of time: the leases expire and rescue returns the jobs to their queues.
                    Log.OutcomesAbandoned(logger, workerId, batch.Count);
                    foreach (var o in batch)
                    {
                        leases.Forget(o.Lease);
                    }

                    return;
                }

                try
                {
                    await Task.Delay(delay, time, giveUp.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private void Finish(List<Outcome> batch, JobsCompleteResult written)
    {
        var now = time.GetUtcNow();
        for (var i = 0; i < batch.Count; i++)
        {
            var o = batch[i];
            leases.Forget(o.Lease);
            // A store answering for fewer completions than it was given is broken; count the missing ones as refused.
            if (i >= written.Applied.Count || !written.Applied[i])
            {
                Log.LeaseLost(logger, o.Job.Id);
                continue;
            }

            o.Applied = true;

            try
            {
                Report(o, now);
            }
            catch (Exception ex)
            {
                Log.ReportFailed(logger, ex, o.Job.Id);
            }
        }

        if (written.Applied.Count != batch.Count)
        {
            Log.ShortCompletionResult(logger, workerId, batch.Count, written.Applied.Count);
        }
    }

    private void Report(Outcome o, DateTimeOffset now)
    {
        var job = o.Job;
        var tags = TypedJobsMetrics.Tags(job.TaskName, job.Queue);
        var observed = hub.IsObserved(job.Id);
        void Publish(JobEventKind kind)
        {
            if (observed)
            {
                hub.Publish(new JobEvent
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
                });
            }
        }

        // Events first, then metrics and logs: a log line (an exception's text to a console) takes long enough for a
        // job retried at once to start again before its Retried event would otherwise be out.
        if (o.Failed)
        {
            Publish(JobEventKind.Failed);
            metrics.Failed.Add(1, tags);
        }

        switch (o.Kind)
        {
            case AttemptOutcome.Succeeded:
                Publish(JobEventKind.Succeeded);
                metrics.Succeeded.Add(1, tags);
                Log.JobSucceeded(logger, job.Id, job.TaskName, o.Duration);
                break;
            case AttemptOutcome.Retry:
                Publish(JobEventKind.Retried);
                metrics.Retried.Add(1, tags);
                Log.JobRetrying(logger, o.Exception, job.Id, job.TaskName, job.Attempt, o.Delay);
                break;
            case AttemptOutcome.Dead:
                Publish(JobEventKind.Dead);
                metrics.Dead.Add(1, tags);
                Log.JobDead(logger, o.Exception, job.Id, job.TaskName, job.Attempt, o.Exception?.Message ?? o.Error ?? "");
                break;
            case AttemptOutcome.Snooze:
                Publish(JobEventKind.Snoozed);
                break;
            case AttemptOutcome.Release:
                Interlocked.Increment(ref released);
                Publish(JobEventKind.Released);
                break;
            case AttemptOutcome.Cancelled:
                metrics.Cancelled.Add(1, tags);
                Publish(JobEventKind.Cancelled);
                break;
        }
    }
}
