using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// Keeps one worker's leases: extends all of them in one store call per heartbeat — the leases of running attempts and
/// of outcomes still waiting to be written — writes reported progress, and stops any local attempt whose lease it can
/// no longer prove. A lease is proven until the time the last successful extension was sent plus the lease duration
/// (the store set its expiry no earlier); once that, less a safety margin, has passed, another worker may rescue the
/// job, so the local run is cancelled and its outcome discarded.
/// </summary>
internal sealed class LeaseKeeper(
    IJobStore store,
    WorkerOptions worker,
    string workerId,
    TimeProvider time,
    ILogger logger)
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<Guid, Tracked> leases = new();
    private int extending;

    /// <summary>How many leases are held (for tests).</summary>
    internal int Count => leases.Count;

    /// <summary>Starts keeping the lease of a claim; it is proven from the claim (the store just set it).</summary>
    public void Track(Execution execution, long claimSentAt) =>
        leases[execution.Lease.LeaseToken] = new Tracked(execution, claimSentAt + ToTimestamp(worker.LeaseDuration));

    /// <summary>Stops keeping a lease (its outcome was written or refused, or the attempt was discarded).</summary>
    public void Forget(JobLease lease) => leases.TryRemove(lease.LeaseToken, out _);

    /// <summary>Whether the lease is still held here and not known to be lost.</summary>
    public bool Holds(JobLease lease) => leases.TryGetValue(lease.LeaseToken, out var tracked) && !tracked.Lost;

    public async Task RunAsync(CancellationToken stopping)
    {
        var heartbeat = worker.EffectiveHeartbeat;
        var lastBeat = time.GetTimestamp();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Tick < heartbeat ? Tick : heartbeat, time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                if (time.GetElapsedTime(lastBeat) >= heartbeat && Interlocked.CompareExchange(ref extending, 1, 0) == 0)
                {
                    lastBeat = time.GetTimestamp();
                    // Not awaited: a store that hangs must not stop the checks below from cancelling unprovable runs.
                    _ = ExtendAsync(stopping);
                }

                await WriteProgressAsync(stopping).ConfigureAwait(false);
                StopUnprovable();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.JobsProgressAsync));
            }
        }
    }

    /// <summary>Extends every held lease once (also used by tests to force a heartbeat).</summary>
    internal async Task ExtendAsync(CancellationToken cancellationToken)
    {
        try
        {
            var held = leases.Values.Where(static t => !t.Lost).ToArray();
            if (held.Length == 0)
            {
                return;
            }

            var sentAt = time.GetTimestamp();
            var result = await store.LeasesExtendAsync(
                new LeasesExtendParams(workerId, held.Select(static t => t.Lease).ToArray(), worker.LeaseDuration), cancellationToken).ConfigureAwait(false);
            var lost = result.Lost.Select(static l => l.LeaseToken).ToHashSet();
            var provenUntil = sentAt + ToTimestamp(worker.LeaseDuration);
            foreach (var tracked in held)
            {
                if (lost.Contains(tracked.Lease.LeaseToken))
                {
                    // Rescued, cancelled, deleted or finished elsewhere: stop the run; an outcome would be refused anyway.
                    tracked.Lost = true;
                    tracked.Execution.Cancel(StopReason.LeaseLost);
                }
                else
                {
                    tracked.ProvenUntil = Math.Max(tracked.ProvenUntil, provenUntil);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.LeasesExtendAsync));
        }
        finally
        {
            Volatile.Write(ref extending, 0);
        }
    }

    private void StopUnprovable()
    {
        var now = time.GetTimestamp();
        var margin = ToTimestamp(worker.LeaseSafetyMargin);
        foreach (var tracked in leases.Values)
        {
            if (!tracked.Execution.IsFinished && now >= tracked.ProvenUntil - margin)
            {
                // Whether or not the store still has it, this worker cannot prove the lease any more: stop before someone
                // else may run the job. (An outcome already decided stays queued: the fence makes a late write safe.)
                tracked.Execution.Cancel(StopReason.LeaseLost);
            }
        }
    }

    private async Task WriteProgressAsync(CancellationToken cancellationToken)
    {
        List<JobProgress>? updates = null;
        foreach (var tracked in leases.Values)
        {
            if (!tracked.Lost && !tracked.Execution.IsFinished && tracked.Execution.TakeProgress() is { } progress)
            {
                (updates ??= []).Add(new JobProgress(tracked.Lease, progress.Value, progress.Message));
            }
        }

        if (updates is not null)
        {
            await store.JobsProgressAsync(new JobsProgressParams(updates), cancellationToken).ConfigureAwait(false);
        }
    }

    private long ToTimestamp(TimeSpan duration) => (long)(duration.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    private sealed class Tracked(Execution execution, long provenUntil)
    {
        public Execution Execution { get; } = execution;

        public JobLease Lease => Execution.Lease;

        /// <summary>A <see cref="TimeProvider.GetTimestamp"/> reading until which the lease is proven.</summary>
        public long ProvenUntil { get; set; } = provenUntil;

        public bool Lost { get; set; }
    }
}
