using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// Claims work for one worker: up to its free slots in one store call, and sleeps on the store's wake-up signal (or
/// a freed slot) with the poll as fallback, never on a busy loop.
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
        Task? wake = null;
        while (!stopping.IsCancellationRequested)
        {
            // Subscribe to "a slot was freed" before reading the counts, so a release in between is not missed.
            var slotWait = slots.Freed.WaitAsync(CancellationToken.None).AsTask();
            var (claims, total, taskLimits, constrained) = slots.Capacity();
            if (total == 0)
            {
                // Every slot is busy (or every queue at its cap, or outcomes wait to be written). A freed slot wakes the
                // producer once enough are free for a batched claim; the poll bounds how long one free slot can sit idle.
                await SleepAsync(worker.PollInterval, slotWait, null, stopping).ConfigureAwait(false);
                continue;
            }

            if (wake is null || wake.IsCompleted)
            {
                wake = store.JobsWaitAsync(waitParams, stopping).AsTask();
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
                await SleepAsync(worker.PollInterval, null, null, stopping).ConfigureAwait(false);
                continue;
            }

            foreach (var job in result.Jobs)
            {
                executor.Start(job, sentAt);
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

            // When a queue or task cap held the claim back, a freed slot may unblock a waiting job: wake on it as well.
            await SleepAsync(delay, constrained ? slotWait : null, wake, stopping).ConfigureAwait(false);
        }
    }

    private async Task SleepAsync(TimeSpan delay, Task? slotFreed, Task? wake, CancellationToken stopping)
    {
        using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var timer = Task.Delay(delay, time, sleep.Token);
        await Task.WhenAny(new[] { timer, slotFreed, wake }.OfType<Task>()).ConfigureAwait(false);
        await sleep.CancelAsync().ConfigureAwait(false);
    }
}
