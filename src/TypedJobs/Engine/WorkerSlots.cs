using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// What one worker runs: the count of running attempts in total, per queue and per capped task, and the outcomes
/// still waiting to be written. The producer asks it how much to claim; every finished attempt gives its slot back.
/// </summary>
internal sealed class WorkerSlots(WorkerOptions worker, IReadOnlyList<string> queueNames, IReadOnlyDictionary<string, int> cappedTasks)
{
    private readonly object gate = new();
    private readonly Dictionary<string, int> perQueue = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> perTask = new(StringComparer.Ordinal);
    private readonly int refillThreshold = Math.Max(1, worker.Concurrency / 8);
    private int running;
    private int pendingOutcomes;
    private TaskCompletionSource? drained;

    /// <summary>Woken when a slot frees (or an outcome is written) in a way that may let the producer claim more.</summary>
    public ProducerWaker Freed { get; } = new();

    public int Running
    {
        get
        {
            lock (gate)
            {
                return running;
            }
        }
    }

    /// <summary>
    /// The queues to claim from with the most jobs per queue, the total, per-task limits, and whether a queue or task
    /// cap held the claim back. Nothing is claimed while as many outcomes wait to be written as the worker has slots:
    /// a store that takes completions slowly slows claims down instead of letting outcomes pile up.
    /// </summary>
    public (QueueClaim[] Claims, int Total, Dictionary<string, int>? TaskLimits, bool Constrained) Capacity()
    {
        lock (gate)
        {
            // Jobs in flight plus outcomes not yet written stay within twice the concurrency (the bound on what a worker
            // that dies can leave to run again). Counting them together, rather than capping each at the concurrency,
            // lets the next claim go out while the previous batch's outcomes are being written, so a durable store
            // commits a claim and a completion batch together instead of alternating between them.
            var free = Math.Min(worker.Concurrency - running, (2 * worker.Concurrency) - running - Volatile.Read(ref pendingOutcomes));
            if (free <= 0)
            {
                return ([], 0, null, true);
            }

            var constrained = false;
            var claims = new List<QueueClaim>(queueNames.Count);
            var total = 0;
            foreach (var queue in queueNames)
            {
                var max = free;
                if (worker.QueueConcurrency.TryGetValue(queue, out var limit))
                {
                    max = Math.Min(max, limit - perQueue.GetValueOrDefault(queue));
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
                taskLimits[task] = Math.Max(0, limit - perTask.GetValueOrDefault(task));
                constrained |= taskLimits[task] < free;
            }

            return (claims.ToArray(), total, taskLimits, constrained);
        }
    }

    public void Take(JobRecord job)
    {
        lock (gate)
        {
            running++;
            perQueue[job.Queue] = perQueue.GetValueOrDefault(job.Queue) + 1;
            perTask[job.TaskName] = perTask.GetValueOrDefault(job.TaskName) + 1;
        }
    }

    public void Give(JobRecord job)
    {
        bool empty;
        int free;
        lock (gate)
        {
            perQueue[job.Queue]--;
            perTask[job.TaskName]--;
            running--;
            empty = running == 0;
            free = worker.Concurrency - running;
        }

        if (empty)
        {
            Volatile.Read(ref drained)?.TrySetResult();
        }

        // Wake the producer once enough slots are free to make a claim worth a store call, so claims stay batched under
        // load; below that it is woken by the next finishing job (or at once when the worker runs dry). A job of a
        // capped queue or task wakes it at once: its slot may be the one a waiting job of that cap needs.
        if (free >= refillThreshold || empty || worker.QueueConcurrency.ContainsKey(job.Queue) || cappedTasks.ContainsKey(job.TaskName))
        {
            Freed.SlotFreed();
        }
    }

    public void OutcomePending() => Interlocked.Increment(ref pendingOutcomes);

    public void OutcomeWritten(int count)
    {
        Interlocked.Add(ref pendingOutcomes, -count);
        Freed.SlotFreed();
    }

    /// <summary>Completes when no attempt runs (for shutdown).</summary>
    public Task DrainedAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref drained, done);
        lock (gate)
        {
            if (running == 0)
            {
                done.TrySetResult();
            }
        }

        return done.Task;
    }
}
