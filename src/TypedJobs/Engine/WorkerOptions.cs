namespace TypedJobs;

/// <summary>Settings of one worker, given to <c>AddWorker(w =&gt; …)</c>.</summary>
public sealed class WorkerOptions
{
    /// <summary>The queues this worker serves. Default: <c>["default"]</c>.</summary>
    public IList<string> Queues { get; set; } = ["default"];

    /// <summary>The most jobs this worker runs at once. Default 10.</summary>
    public int Concurrency { get; set; } = 10;

    /// <summary>Per-queue caps on concurrent jobs in this worker (queue name → most jobs); queues not listed share <see cref="Concurrency"/>.</summary>
    public IDictionary<string, int> QueueConcurrency { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>How long the worker sleeps when no wake-up signal arrives before it looks for jobs again. Default 1 second.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claim holds a job before the rescuer may hand it to another worker. Default 30 seconds.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the worker extends all its leases in one call. Default: a third of <see cref="LeaseDuration"/>.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>
    /// How long running jobs may finish after shutdown begins before they are cancelled and returned to their queues.
    /// Default 20 seconds. Keep it and <see cref="AbandonGrace"/> together below the host's shutdown timeout: when that
    /// passes first, running jobs are given up at once and outcomes are written for at most 5 seconds more.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a handler that ignores its cancellation token (at its timeout, or after <see cref="ShutdownTimeout"/>)
    /// is waited for before the worker gives its job up: a timed-out job is then failed as timed out, a job still running
    /// at shutdown is returned to its queue without using an attempt, and the slot is free again. Default 5 seconds.
    /// </summary>
    public TimeSpan AbandonGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often this process looks for jobs with expired leases (one maintenance loop per process, whatever the number of
    /// workers: the shortest interval of its workers). Default 15 seconds.
    /// </summary>
    public TimeSpan RescueInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often one process of the cluster (holding a store lock) prunes old jobs, results, events, workers and
    /// statistics, in batches until a batch comes back short. Default 1 minute.
    /// </summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How far ahead a busy worker claims: besides its running jobs it holds up to four times <see cref="Concurrency"/>
    /// more, as many as it would start within this window at its recent rate, and starts one the moment a slot frees,
    /// without a store call in between. Jobs that take longer than the window on average are never held back from other
    /// workers. <see cref="TimeSpan.Zero"/> turns it off; <see cref="Timeout.InfiniteTimeSpan"/> always holds four times
    /// <see cref="Concurrency"/> jobs ahead. Nothing is held ahead when <see cref="QueueConcurrency"/> or a task's
    /// <c>MaxConcurrency</c> caps this worker. A held job starts only while running attempts plus outcomes not yet written
    /// stay below twice the concurrency — the most a worker killed at any moment leaves to run a second time (held jobs
    /// never ran: they run once, after their leases expire). Held jobs are returned to their queues at shutdown without
    /// using an attempt. Default 20 ms.
    /// </summary>
    public TimeSpan PrefetchWindow { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The most outcomes written in one store call. Default 500.</summary>
    public int CompletionBatchSize { get; set; } = 500;

    /// <summary>The worker's id, shown on the jobs it holds and in the worker registry. Default: machine name, process id and a random suffix.</summary>
    public string? WorkerId { get; set; }

    internal TimeSpan EffectiveHeartbeat => HeartbeatInterval ?? TimeSpan.FromTicks(LeaseDuration.Ticks / 3);

    /// <summary>How long before a lease it can no longer prove the worker stops the attempt (leaves time for the stop to land).</summary>
    internal TimeSpan LeaseSafetyMargin => TimeSpan.FromTicks(Math.Min(LeaseDuration.Ticks / 10, TimeSpan.TicksPerSecond * 2));

    /// <summary>
    /// Checks the lease against the store's hot-path timeout: a heartbeat that waits the whole timeout must still land,
    /// with room to spare, before the lease runs out.
    /// </summary>
    internal void Validate(TimeSpan hotPathTimeout, string store)
    {
        var needed = EffectiveHeartbeat + hotPathTimeout + hotPathTimeout + LeaseSafetyMargin;
        if (LeaseDuration <= needed)
        {
            throw new InvalidOperationException(
                $"Invalid worker setting TypedJobs:Worker:LeaseDuration = '{LeaseDuration}': it must be longer than the heartbeat ({EffectiveHeartbeat}) plus twice the hot-path timeout of the jobs store {store} ({hotPathTimeout}) plus a safety margin ({LeaseSafetyMargin}), i.e. more than {needed}. Lengthen the lease or shorten the store's timeout (for SQLite, busy_timeout).");
        }
    }

    internal void Validate()
    {
        static void Fail(string key, object? value, string rule) =>
            throw new InvalidOperationException($"Invalid worker setting TypedJobs:Worker:{key} = '{value}': {rule}.");

        if (Queues is null || Queues.Count == 0)
        {
            Fail(nameof(Queues), "(empty)", "give at least one queue name");
        }

        foreach (var queue in Queues!)
        {
            if (!Client.QueueNames.IsValid(queue))
            {
                Fail(nameof(Queues), queue, "queue names are 1-100 characters of letters, digits, '-', '_', '.' or ':'");
            }
        }

        if (Concurrency < 1)
        {
            Fail(nameof(Concurrency), Concurrency, "must be at least 1");
        }

        foreach (var (queue, limit) in QueueConcurrency)
        {
            if (limit < 1)
            {
                Fail($"{nameof(QueueConcurrency)}:{queue}", limit, "must be at least 1");
            }
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            Fail(nameof(PollInterval), PollInterval, "must be positive");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1))
        {
            Fail(nameof(LeaseDuration), LeaseDuration, "must be at least 1 second");
        }

        if (EffectiveHeartbeat <= TimeSpan.Zero || EffectiveHeartbeat >= LeaseDuration)
        {
            Fail(nameof(HeartbeatInterval), EffectiveHeartbeat, "must be positive and shorter than LeaseDuration");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            Fail(nameof(ShutdownTimeout), ShutdownTimeout, "must not be negative");
        }

        if (AbandonGrace < TimeSpan.Zero)
        {
            Fail(nameof(AbandonGrace), AbandonGrace, "must not be negative");
        }

        if (RescueInterval <= TimeSpan.Zero)
        {
            Fail(nameof(RescueInterval), RescueInterval, "must be positive");
        }

        if (MaintenanceInterval <= TimeSpan.Zero)
        {
            Fail(nameof(MaintenanceInterval), MaintenanceInterval, "must be positive");
        }

        if (PrefetchWindow < TimeSpan.Zero && PrefetchWindow != Timeout.InfiniteTimeSpan)
        {
            Fail(nameof(PrefetchWindow), PrefetchWindow, "must be zero (off), positive, or Timeout.InfiniteTimeSpan (always)");
        }

        if (CompletionBatchSize < 1)
        {
            Fail(nameof(CompletionBatchSize), CompletionBatchSize, "must be at least 1");
        }
    }
}
