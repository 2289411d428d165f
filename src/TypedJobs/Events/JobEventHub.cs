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
    // Callers waiting in this process for a job to finish, counted per job so the entry goes when the last one leaves.
    private readonly Dictionary<JobId, Waiter> waiters = [];
    private int waiterCount;
    private readonly Channel<JobEvent>? channel;
    private readonly Task? loop;
    private readonly TypedJobsMetrics metrics;
    private readonly int capacity;
    private long dropped;
    private long lastDropLog = long.MinValue / 2;

    public JobEventHub(IEnumerable<IJobEventObserver> observers, StorageSet storage, TypedJobsOptions options, TypedJobsMetrics metrics,
        ILogger<JobEventHub> logger)
    {
        this.observers = observers.ToArray();
        eventStore = options.RecordEvents ? storage.Events : null;
        this.logger = logger;
        this.metrics = metrics;
        capacity = options.EventBufferSize;
        if (this.observers.Length > 0 || eventStore is not null)
        {
            // Bounded: a slow observer or events store costs events (counted and logged), never unbounded memory.
            channel = Channel.CreateBounded<JobEvent>(
                new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite }, Dropped);
            loop = Task.Run(DeliverAsync);
        }
    }

    /// <summary>How many events were dropped because the buffer was full.</summary>
    internal long DroppedEvents => Interlocked.Read(ref dropped);

    private void Dropped(JobEvent jobEvent)
    {
        var total = Interlocked.Increment(ref dropped);
        metrics.EventsDropped.Add(1, TypedJobsMetrics.Tags(jobEvent.TaskName, jobEvent.Queue));
        // Log the first drop and then at most every ten seconds, with the running total.
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref lastDropLog);
        if (now - last >= 10_000 && Interlocked.CompareExchange(ref lastDropLog, now, last) == last)
        {
            Log.EventsDropped(logger, total, capacity);
        }
    }

    /// <summary>Whether an event about <paramref name="id"/> would reach anyone (lets hot paths skip building it).</summary>
    public bool IsObserved(JobId id)
    {
        if (channel is not null)
        {
            return true;
        }

        if (Volatile.Read(ref waiterCount) == 0)
        {
            return false;
        }

        lock (waiters)
        {
            return waiters.ContainsKey(id);
        }
    }

    /// <summary>How many jobs have callers waiting on them (for tests).</summary>
    internal int WaitedJobs
    {
        get
        {
            lock (waiters)
            {
                return waiters.Count;
            }
        }
    }

    public void Publish(JobEvent jobEvent)
    {
        if (Volatile.Read(ref waiterCount) != 0 && FinalState(jobEvent) is { } state)
        {
            Waiter? waiter;
            lock (waiters)
            {
                if (waiters.Remove(jobEvent.JobId, out waiter))
                {
                    waiterCount = waiters.Count;
                }
            }

            waiter?.Source.TrySetResult(state);
        }

        channel?.Writer.TryWrite(jobEvent);
    }

    /// <summary>A task that completes when the job reaches a final state in this process (or is deleted or cancelled here).</summary>
    public Task<JobState> WaitForFinalAsync(JobId id)
    {
        lock (waiters)
        {
            if (!waiters.TryGetValue(id, out var waiter))
            {
                waiter = new Waiter();
                waiters.Add(id, waiter);
                waiterCount = waiters.Count;
            }

            waiter.Count++;
            return waiter.Source.Task;
        }
    }

    /// <summary>Ends one caller's wait started with <see cref="WaitForFinalAsync"/>; call it exactly once per wait.</summary>
    public void StopWaiting(JobId id, Task<JobState> task)
    {
        lock (waiters)
        {
            // The entry may already be gone (the job finished) or belong to later callers: only count down our own.
            if (waiters.TryGetValue(id, out var waiter) && waiter.Source.Task == task && --waiter.Count == 0)
            {
                waiters.Remove(id);
                waiterCount = waiters.Count;
            }
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
                    await eventStore.EventsAppendAsync(new EventsAppendParams(batch.ToArray()), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.ObserverFailed(logger, ex, eventStore.GetType().Name, batch[0].Kind, batch[0].JobId);
                }
            }

            batch.Clear();
        }
    }

    private sealed class Waiter
    {
        public TaskCompletionSource<JobState> Source { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count { get; set; }
    }
}
