using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// One loop per process, however many workers it runs: rescues jobs whose lease expired (every process does, since
/// rescue is idempotent and needs no leader), and — in the one process holding the maintenance lock — prunes finished
/// jobs, expired results, old events, stale workers and old statistics in bounded batches until a batch comes back
/// short. A pass that runs out of its time budget continues at once, so pruning keeps up with a busy cluster.
/// </summary>
internal sealed class MaintenanceService(
    StorageSet storage,
    TypedJobsOptions options,
    IEnumerable<WorkerOptions> workers,
    JobEventHub hub,
    TypedJobsMetrics metrics,
    TimeProvider time,
    ILogger<MaintenanceService> logger) : StoreLoopService
{
    private const string LockName = "typedjobs:maintenance";
    private const int PruneBatch = 10_000;
    private static readonly TimeSpan PassBudget = TimeSpan.FromSeconds(20);
    private readonly string owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";

    private TimeSpan RescueInterval => workers.Select(static w => w.RescueInterval).DefaultIfEmpty(TimeSpan.FromSeconds(15)).Min();

    private TimeSpan MaintenanceInterval => workers.Select(static w => w.MaintenanceInterval).DefaultIfEmpty(TimeSpan.FromMinutes(1)).Min();

    private TimeSpan LeaseDuration => workers.Select(static w => w.LeaseDuration).DefaultIfEmpty(TimeSpan.FromSeconds(30)).Max();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ManualExecution)
        {
            // Under the testing kit nothing expires on its own: leases are never lost and jobs are kept for assertions.
            return;
        }

        await Task.Yield();
        var lastPrune = time.GetTimestamp();
        var pruneNow = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await storage.EnsureInitializedAsync(stoppingToken).ConfigureAwait(false);
                await RescueAsync(stoppingToken).ConfigureAwait(false);
                if (pruneNow || time.GetElapsedTime(lastPrune) >= MaintenanceInterval)
                {
                    lastPrune = time.GetTimestamp();
                    pruneNow = await PruneAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.MaintenanceFailed(logger, ex, nameof(IJobStore.JobsRescueAsync));
                // A pass that failed waits for the next interval, even if the last prune had more to do: a store that
                // is down is not called in a tight loop.
                pruneNow = false;
            }

            if (pruneNow)
            {
                continue;
            }

            try
            {
                await Task.Delay(RescueInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal async Task RescueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var rescued = await storage.Jobs.JobsRescueAsync(new JobsRescueParams(1000), cancellationToken).ConfigureAwait(false);
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

            if (rescued.Jobs.Count < 1000)
            {
                return;
            }
        }
    }

    /// <summary>One pruning pass; returns whether it ran out of its time budget with work left.</summary>
    internal async Task<bool> PruneAsync(CancellationToken cancellationToken)
    {
        var locked = await storage.Locks.LocksAcquireAsync(new LocksAcquireParams(LockName, owner, MaintenanceInterval + PassBudget), cancellationToken)
            .ConfigureAwait(false);
        if (!locked.Acquired)
        {
            return false;
        }

        var started = time.GetTimestamp();
        bool OutOfTime() => time.GetElapsedTime(started) >= PassBudget;
        var jobs = 0;
        var results = 0;
        var events = 0;
        var more = false;
        if (options.SucceededRetention > TimeSpan.Zero)
        {
            (jobs, more) = await BatchesAsync(max => storage.Admin.JobsPruneAsync(
                new JobsPruneParams([JobState.Succeeded, JobState.Cancelled], options.SucceededRetention, max), cancellationToken), r => r.Deleted, OutOfTime).ConfigureAwait(false);
        }

        if (options.DeadRetention > TimeSpan.Zero && !more)
        {
            int dead;
            (dead, more) = await BatchesAsync(max => storage.Admin.JobsPruneAsync(
                new JobsPruneParams([JobState.Dead], options.DeadRetention, max), cancellationToken), r => r.Deleted, OutOfTime).ConfigureAwait(false);
            jobs += dead;
        }

        if (storage.Results is { } resultStore && !more)
        {
            (results, more) = await BatchesAsync(max => resultStore.ResultsPruneAsync(new ResultsPruneParams(max), cancellationToken), r => r.Deleted, OutOfTime)
                .ConfigureAwait(false);
        }

        var keep = TimeSpan.FromTicks(Math.Max(options.SucceededRetention.Ticks, options.DeadRetention.Ticks));
        if (options.RecordEvents && storage.Events is { } eventStore && keep > TimeSpan.Zero && !more)
        {
            (events, more) = await BatchesAsync(max => eventStore.EventsPruneAsync(new EventsPruneParams(keep, max), cancellationToken), r => r.Deleted, OutOfTime)
                .ConfigureAwait(false);
        }

        await storage.Admin.WorkersPruneAsync(new WorkersPruneParams(TimeSpan.FromTicks(LeaseDuration.Ticks * 10)), cancellationToken).ConfigureAwait(false);
        await storage.Admin.StatsPruneAsync(new StatsPruneParams(StorageRules.MaxThroughputWindow), cancellationToken).ConfigureAwait(false);
        if (jobs + results + events > 0)
        {
            Log.Pruned(logger, jobs, results, events);
        }

        return more;
    }

    /// <summary>Prunes in batches until one comes back short or time is up; returns the total and whether work is left.</summary>
    private static async Task<(int Deleted, bool More)> BatchesAsync<T>(Func<int, ValueTask<T>> prune, Func<T, int> deleted, Func<bool> outOfTime)
    {
        var total = 0;
        while (true)
        {
            var n = deleted(await prune(PruneBatch).ConfigureAwait(false));
            total += n;
            if (n < PruneBatch)
            {
                return (total, false);
            }

            if (outOfTime())
            {
                return (total, true);
            }
        }
    }
}
