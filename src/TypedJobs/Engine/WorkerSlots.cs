using System.Diagnostics;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// What one worker runs: the count of running attempts in total, per queue and per capped task, the claimed attempts
/// waiting for a slot (prefetched), and the outcomes still waiting to be written. The producer asks it how much to
/// claim; every finished attempt gives its slot back and takes the next prefetched attempt, if there is one.
/// </summary>
/// <remarks>
/// Prefetching keeps a worker busy between claims: a worker that finishes jobs quickly claims up to
/// <see cref="MaxPrefetchPerSlot"/> × <see cref="WorkerOptions.Concurrency"/> jobs ahead, so a finished attempt starts the next one without waiting for a
/// store call, and claims come in larger batches. It holds only what this worker would start within
/// <see cref="WorkerOptions.PrefetchWindow"/> at its recent rate, so slow jobs are never held back from another worker.
/// With per-queue or per-task caps nothing is prefetched (a held job could be the one a cap lets run elsewhere).
/// </remarks>
internal sealed class WorkerSlots(WorkerOptions worker, IReadOnlyList<string> queueNames, IReadOnlyDictionary<string, int> cappedTasks)
{
    private static readonly long RateWindow = Stopwatch.Frequency / 50;

    /// <summary>The most jobs held ahead per slot (<see cref="WorkerOptions.PrefetchWindow"/>).</summary>
    internal const int MaxPrefetchPerSlot = 4;
    private readonly object gate = new();
    private readonly Dictionary<string, int> perQueue = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> perTask = new(StringComparer.Ordinal);
    private readonly Queue<Execution> prefetched = new();
    private readonly bool mayPrefetch = (worker.PrefetchWindow > TimeSpan.Zero || worker.PrefetchWindow == Timeout.InfiniteTimeSpan) && worker.QueueConcurrency.Count == 0 && cappedTasks.Count == 0;
    private int running;
    private int pendingOutcomes;
    private bool stopped;
    private TaskCompletionSource? drained;

    // The recent rate of finished attempts (per second), measured over windows of at least 20 ms of real time.
    private long rateWindowStart = Stopwatch.GetTimestamp();
    private int finishedInWindow;
    private double finishedPerSecond;

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

    /// <summary>How many claimed attempts wait for a slot.</summary>
    public int Prefetched
    {
        get
        {
            lock (gate)
            {
                return prefetched.Count;
            }
        }
    }

    /// <summary>
    /// The queues to claim from with the most jobs per queue, the total, per-task limits, and whether a queue or task
    /// cap held the claim back. Nothing is claimed once the jobs in flight (running or held) reach the concurrency plus
    /// the prefetch target, or once they and the outcomes waiting to be written reach twice the concurrency plus that
    /// target: a store that takes completions slowly slows claims down instead of letting outcomes pile up.
    /// </summary>
    public (QueueClaim[] Claims, int Total, Dictionary<string, int>? TaskLimits, bool Constrained) Capacity()
    {
        lock (gate)
        {
            // Jobs in flight (running or held) plus outcomes not yet written stay within twice the concurrency plus the
            // prefetch target, so a store that takes completions slowly slows claims down. Counting them together, rather
            // than capping each, lets the next claim go out while the previous batch's outcomes are being written, so a
            // durable store commits a claim and a completion batch together instead of alternating between them. What a
            // killed worker can leave to run twice — running attempts plus unwritten outcomes — is bounded by twice the
            // concurrency where attempts start (MayStartLocked).
            var inFlight = running + prefetched.Count;
            var target = PrefetchTarget();
            var free = Math.Min(worker.Concurrency + target - inFlight, (2 * worker.Concurrency) + target - inFlight - Volatile.Read(ref pendingOutcomes));
            if (free <= 0 || stopped)
            {
                return ([], 0, null, true);
            }

            var constrained = false;
            // Filled in place and trimmed only when a queue is at its cap: one array per claim, no list beside it.
            var claims = new QueueClaim[queueNames.Count];
            var count = 0;
            var total = 0;
            for (var q = 0; q < queueNames.Count; q++)
            {
                var queue = queueNames[q];
                var max = free;
                if (worker.QueueConcurrency.TryGetValue(queue, out var limit))
                {
                    max = Math.Min(max, limit - perQueue.GetValueOrDefault(queue));
                    constrained |= max < free;
                }

                if (max > 0)
                {
                    claims[count++] = new QueueClaim(queue, max);
                    total += max;
                }
            }

            total = Math.Min(total, free);
            Dictionary<string, int>? taskLimits = null;
            // Enumerated only when there is a cap: enumerating the dictionary through its interface allocates.
            if (cappedTasks.Count > 0)
            {
                taskLimits = new(StringComparer.Ordinal);
                foreach (var (task, limit) in cappedTasks)
                {
                    taskLimits[task] = Math.Max(0, limit - perTask.GetValueOrDefault(task));
                    constrained |= taskLimits[task] < free;
                }
            }

            if (count < claims.Length)
            {
                Array.Resize(ref claims, count);
            }

            return (claims, total, taskLimits, constrained);
        }
    }

    /// <summary>
    /// Takes a slot for a claimed attempt and returns <see langword="true"/>, or — every slot busy — keeps it until one
    /// frees and returns <see langword="false"/>.
    /// </summary>
    public bool TakeOrPrefetch(Execution execution)
    {
        lock (gate)
        {
            if (stopped || MayStartLocked())
            {
                TakeLocked(execution.Job);
                return true;
            }

            prefetched.Enqueue(execution);
            return false;
        }
    }

    /// <summary>Takes a slot for an attempt that runs whatever the count (the manual step of the testing kit).</summary>
    public void Take(JobRecord job)
    {
        lock (gate)
        {
            TakeLocked(job);
        }
    }

    /// <summary>
    /// Gives a finished attempt's slot back and returns the next prefetched attempt, which holds the slot now (or
    /// <see langword="null"/>).
    /// </summary>
    public Execution? Give(JobRecord job)
    {
        bool empty;
        bool refill;
        Execution? next = null;
        lock (gate)
        {
            perQueue[job.Queue]--;
            perTask[job.TaskName]--;
            running--;
            finishedInWindow++;
            if (!stopped && MayStartLocked() && prefetched.TryDequeue(out next))
            {
                TakeLocked(next.Job);
            }

            empty = running == 0;
            var target = PrefetchTarget();
            var threshold = target > 0 ? Math.Max(1, (worker.Concurrency + target) / 4) : Math.Max(1, worker.Concurrency / 8);
            refill = worker.Concurrency + target - running - prefetched.Count >= threshold;
        }

        if (empty)
        {
            Volatile.Read(ref drained)?.TrySetResult();
        }

        // Wake the producer once enough room is free to make a claim worth a store call, so claims stay batched under
        // load; below that it is woken by the next finishing job (or at once when the worker runs dry). A job of a
        // capped queue or task wakes it at once: its slot may be the one a waiting job of that cap needs.
        if (refill || empty || worker.QueueConcurrency.ContainsKey(job.Queue) || cappedTasks.ContainsKey(job.TaskName))
        {
            Freed.SlotFreed();
        }

        return next;
    }

    /// <summary>Stops starting prefetched attempts (shutdown) and returns them, to be given back to their queues.</summary>
    public Execution[] Stop()
    {
        lock (gate)
        {
            stopped = true;
            var left = prefetched.ToArray();
            prefetched.Clear();
            return left;
        }
    }

    public void OutcomePending() => Interlocked.Increment(ref pendingOutcomes);

    public void OutcomeWritten(int count)
    {
        Interlocked.Add(ref pendingOutcomes, -count);
        List<Execution>? promoted = null;
        lock (gate)
        {
            // Held jobs that waited for outcomes to be written (the bound on attempts a killed worker leaves to run twice).
            while (!stopped && MayStartLocked() && prefetched.TryDequeue(out var next))
            {
                TakeLocked(next.Job);
                (promoted ??= []).Add(next);
            }
        }

        if (promoted is not null)
        {
            foreach (var execution in promoted)
            {
                Promoted?.Invoke(execution);
            }
        }

        Freed.SlotFreed();
    }

    /// <summary>Starts a held attempt that took a slot when outcomes were written (set by the executor).</summary>
    public Action<Execution>? Promoted { get; set; }

    /// <summary>
    /// Whether another attempt may start: a free slot, and running attempts plus outcomes not yet written below twice the
    /// concurrency — what a worker killed now could leave to run a second time. Held (prefetched) jobs never ran, so they
    /// do not count: a killed worker's held jobs run once, after their leases expire.
    /// </summary>
    private bool MayStartLocked() =>
        running < worker.Concurrency && running + Volatile.Read(ref pendingOutcomes) < 2 * worker.Concurrency;

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

    private void TakeLocked(JobRecord job)
    {
        running++;
        perQueue[job.Queue] = perQueue.GetValueOrDefault(job.Queue) + 1;
        perTask[job.TaskName] = perTask.GetValueOrDefault(job.TaskName) + 1;
    }

    /// <summary>How many jobs to hold beyond the running ones: what this worker would start within the prefetch window.</summary>
    private int PrefetchTarget()
    {
        if (!mayPrefetch)
        {
            return 0;
        }

        if (worker.PrefetchWindow == Timeout.InfiniteTimeSpan)
        {
            return MaxPrefetchPerSlot * worker.Concurrency;
        }

        var now = Stopwatch.GetTimestamp();
        var elapsed = now - rateWindowStart;
        if (elapsed >= RateWindow)
        {
            finishedPerSecond = finishedInWindow * (double)Stopwatch.Frequency / elapsed;
            finishedInWindow = 0;
            rateWindowStart = now;
        }

        return (int)Math.Min(MaxPrefetchPerSlot * worker.Concurrency, finishedPerSecond * worker.PrefetchWindow.TotalSeconds);
    }
}
