using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Hosting;
using TypedJobs.Storage;

namespace TypedJobs.Events;

/// <summary>
/// Fans lifecycle events out: wakes in-process waiters at once, and delivers events in order to observers and the
/// event store on a background loop so a slow observer never slows a job.
/// </summary>
internal sealed class JobEventHub : IAsyncDisposable
{
    private readonly IJobEventObserver[] observers;
    private readonly IEventStore? eventStore;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<JobId, TaskCompletionSource<JobState>> waiters = new();
    private readonly Channel<JobEvent>? channel;
    private readonly Task? loop;

    public JobEventHub(IEnumerable<IJobEventObserver> observers, StorageSet storage, TypedJobsOptions options, ILogger<JobEventHub> logger)
    {
        this.observers = observers.ToArray();
        eventStore = options.RecordEvents ? storage.Events : null;
        this.logger = logger;
        if (this.observers.Length > 0 || eventStore is not null)
        {
            channel = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
            loop = Task.Run(DeliverAsync);
        }
    }

    /// <summary>Whether an event about <paramref name="id"/> would reach anyone (lets hot paths skip building it).</summary>
    public bool IsObserved(JobId id) => channel is not null || (!waiters.IsEmpty && waiters.ContainsKey(id));

    public void Publish(JobEvent jobEvent)
    {
        if (!waiters.IsEmpty && FinalState(jobEvent) is { } state && waiters.TryRemove(jobEvent.JobId, out var waiter))
        {
            waiter.TrySetResult(state);
        }

        channel?.Writer.TryWrite(jobEvent);
    }

    /// <summary>A task that completes when the job reaches a final state in this process (or is deleted or cancelled here).</summary>
    public Task<JobState> WaitForFinalAsync(JobId id) =>
        waiters.GetOrAdd(id, static _ => new TaskCompletionSource<JobState>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void StopWaiting(JobId id, Task<JobState> task)
    {
        if (waiters.TryGetValue(id, out var waiter) && waiter.Task == task && task.IsCompleted)
        {
            waiters.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (channel is not null)
        {
            channel.Writer.TryComplete();
            await loop!.ConfigureAwait(false);
        }
    }

    private static JobState? FinalState(JobEvent e) => e.Kind switch
    {
        JobEventKind.Succeeded => JobState.Succeeded,
        JobEventKind.Dead => JobState.Dead,
        JobEventKind.Cancelled => JobState.Cancelled,
        _ => null,
    };

    private async Task DeliverAsync()
    {
        var reader = channel!.Reader;
        var batch = new List<JobEvent>(64);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 256 && reader.TryRead(out var e))
            {
                batch.Add(e);
            }

            foreach (var e in batch)
            {
                foreach (var observer in observers)
                {
                    try
                    {
                        await observer.OnEventAsync(e, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        Log.ObserverFailed(logger, ex, observer.GetType().Name, e.Kind, e.JobId);
                    }
                }
            }

            if (eventStore is not null)
            {
                try
                {
                    await eventStore.EventsAppendAsync(batch.ToArray(), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.ObserverFailed(logger, ex, eventStore.GetType().Name, batch[0].Kind, batch[0].JobId);
                }
            }

            batch.Clear();
        }
    }
}
