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
    // The held leases by token, under a lock (a plain dictionary allocates nothing per lease; a concurrent one a node).
    // What the keeper knows about a lease (proven until, lost) lives on the attempt itself.
    private readonly Dictionary<Guid, Execution> leases = [];
    private int extending;
    private int writingProgress;

    /// <summary>How many leases are held (for tests).</summary>
    internal int Count
    {
        get
        {
            lock (leases)
            {
                return leases.Count;
            }
        }
    }

    /// <summary>Starts keeping the lease of a claim; it is proven from the claim (the store just set it).</summary>
    public void Track(Execution execution, long claimSentAt)
    {
        var provenUntil = claimSentAt + ToTimestamp(worker.LeaseDuration);
        lock (leases)
        {
            execution.ProvenUntil = provenUntil;
            leases[execution.Lease.LeaseToken] = execution;
        }
    }

    /// <summary>Stops keeping a lease (its outcome was written or refused, or the attempt was discarded).</summary>
    public void Forget(JobLease lease)
    {
        lock (leases)
        {
            leases.Remove(lease.LeaseToken);
        }
    }

    /// <summary>Whether the lease is still held here and not known to be lost.</summary>
    public bool Holds(JobLease lease)
    {
        lock (leases)
        {
            return leases.TryGetValue(lease.LeaseToken, out var tracked) && !tracked.LeaseLost;
        }
    }

    /// <summary>The attempts whose leases are held: running, prefetched, or with an outcome waiting to be written.</summary>
    public Execution[] Held()
    {
        lock (leases)
        {
            return [.. leases.Values];
        }
    }

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

                // Before any progress is written, and that write not awaited either: a progress write that fails or hangs
                // (the store is unreachable) must not keep runs going past the lease this worker can prove.
                StopUnprovable();
                if (Interlocked.CompareExchange(ref writingProgress, 1, 0) == 0)
                {
                    _ = WriteProgressAsync(stopping);
                }
            }
            catch (Exception ex)
            {
                // Only a bug can get here (store calls are not awaited above): the loop must survive it.
                Log.LeaseCheckFailed(logger, ex, workerId);
            }
        }
    }

    /// <summary>Extends every held lease once (also used by tests to force a heartbeat).</summary>
    internal async Task ExtendAsync(CancellationToken cancellationToken)
    {
        try
        {
            var held = Held().Where(static e => !e.LeaseLost).ToArray();
            if (held.Length == 0)
            {
                return;
            }

            var sentAt = time.GetTimestamp();
            var result = await store.LeasesExtendAsync(
                new LeasesExtendParams(workerId, held.Select(static t => t.Lease).ToArray(), worker.LeaseDuration), cancellationToken).ConfigureAwait(false);
            var lost = result.Lost.Select(static l => l.LeaseToken).ToHashSet();
            var provenUntil = sentAt + ToTimestamp(worker.LeaseDuration);
            lock (leases)
            {
                foreach (var execution in held)
                {
                    if (lost.Contains(execution.Lease.LeaseToken))
                    {
                        execution.LeaseLost = true;
                    }
                    else
                    {
                        execution.ProvenUntil = Math.Max(execution.ProvenUntil, provenUntil);
                    }
                }
            }

            foreach (var execution in held)
            {
                if (execution.LeaseLost)
                {
                    // Rescued, cancelled, deleted or finished elsewhere: stop the run; an outcome would be refused anyway.
                    execution.Cancel(StopReason.LeaseLost);
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
        foreach (var execution in Held())
        {
            if (!execution.IsFinished && now >= execution.ProvenUntil - margin)
            {
                // Whether or not the store still has it, this worker cannot prove the lease any more: stop before someone
                // else may run the job. (An outcome already decided stays queued: the fence makes a late write safe.)
                execution.Cancel(StopReason.LeaseLost);
            }
        }
    }

    /// <summary>Writes the progress reported since the last write, in one store call; one write at a time.</summary>
    private async Task WriteProgressAsync(CancellationToken cancellationToken)
    {
        try
        {
            List<JobProgress>? updates = null;
            foreach (var execution in Held())
            {
                if (!execution.LeaseLost && !execution.IsFinished && execution.TakeProgress() is { } progress)
                {
                    (updates ??= []).Add(new JobProgress(execution.Lease, progress.Value, progress.Message));
                }
            }

            if (updates is not null)
            {
                await store.JobsProgressAsync(new JobsProgressParams(updates), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StoreCallFailed(logger, ex, workerId, nameof(IJobStore.JobsProgressAsync));
        }
        catch (OperationCanceledException)
        {
            // The worker is stopping.
        }
        finally
        {
            Volatile.Write(ref writingProgress, 0);
        }
    }

    private long ToTimestamp(TimeSpan duration) => (long)(duration.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
}
