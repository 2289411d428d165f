using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// Claims work for one worker: up to its free slots in one store call, and sleeps on the store's wake-up signal (or
/// a freed slot) with the poll as fallback, never on a busy loop. A sleep allocates nothing (see <see cref="ProducerWaker"/>).
/// </summary>
internal sealed class JobProducer(
    IJobStore store,
    WorkerOptions worker,
    WorkerSlots slots,
    JobExecutor executor,
    TimeProvider time,
    string workerId,
    IReadOnlyList<string> queueNames,
    ILogger logger)
{
    private readonly JobsWaitParams waitParams = new(queueNames);

    public async Task RunAsync(CancellationToken stopping)
    {
        var waker = slots.Freed;
        using var timer = time.CreateTimer(static s => ((ProducerWaker)s!).Wake(), waker, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        using var onStop = stopping.Register(static s => ((ProducerWaker)s!).Wake(), waker);
        Task? wake = null;
        while (!stopping.IsCancellationRequested)
        {
            // Arm before reading the counts, so a slot freed in between is not missed.
            waker.Arm();
            waker.ListeningForSlots = true;
            var (claims, total, taskLimits, constrained) = slots.Capacity();
            if (total == 0)
            {
                // Every slot is busy (or every queue at its cap, or outcomes wait to be written). A freed slot wakes the
                // producer once enough are free for a batched claim; the poll bounds how long one free slot can sit idle.
                await SleepAsync(waker, timer, worker.PollInterval, stopping).ConfigureAwait(false);
                continue;
            }

            if (wake is null || wake.IsCompleted)
            {
                wake = store.JobsWaitAsync(waitParams, stopping).AsTask();
                if (!wake.IsCompleted)
                {
                    // Allocated once per store signal, not per sleep.
                    _ = wake.ContinueWith(static (_, s) => ((ProducerWaker)s!).Wake(), waker, CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }

            JobsClaimResult result;
            var sentAt = time.GetTimestamp();
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
                waker.ListeningForSlots = false;
                waker.Arm();
                await SleepAsync(waker, timer, worker.PollInterval, stopping).ConfigureAwait(false);
                continue;
            }

            // Indexed: a foreach over the list's interface would allocate an enumerator per claim.
            for (var i = 0; i < result.Jobs.Count; i++)
            {
                executor.Start(result.Jobs[i], sentAt);
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

            // The store's wake-up signal ends the sleep (a wake that came during the claim ended it already). When a queue
            // or task cap held the claim back, a freed slot may unblock a waiting job: listen for slots as well.
            waker.ListeningForSlots = constrained;
            if (wake.IsCompleted)
            {
                continue;
            }

            await SleepAsync(waker, timer, delay, stopping).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sleeps until the waker (armed by the caller) is woken or <paramref name="delay"/> passes. A stop requested before
    /// the waker was armed is seen here; one requested after it wakes it.
    /// </summary>
    private static ValueTask SleepAsync(ProducerWaker waker, ITimer timer, TimeSpan delay, CancellationToken stopping)
    {
        if (stopping.IsCancellationRequested)
        {
            return ValueTask.CompletedTask;
        }

        // A timer still running from an earlier sleep is moved, not added: a late tick only wakes the producer early.
        timer.Change(delay, Timeout.InfiniteTimeSpan);
        return waker.WaitAsync();
    }
}
