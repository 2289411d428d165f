namespace TypedJobs.Storage;

/// <summary>A job as the store holds it.</summary>
public sealed record JobRecord
{
    // What a job that simply runs and succeeds never sets lives in one object, shared (it is never changed once built)
    // and allocated only when one of them holds a value: a claimed job's record is about a third smaller.
    private Details? details;

    // Instants are kept as UTC ticks (8 bytes, against 16 for a DateTimeOffset and 24 for a nullable one), with
    // NoInstant for none: a claimed job's record is 48 bytes smaller. They read back in UTC; equality is unchanged, as
    // DateTimeOffset compares instants.
    private const long NoInstant = long.MinValue;
    private long createdAt;
    private long dueAt;
    private long startedAt = NoInstant;
    private long leaseExpiresAt = NoInstant;

    /// <summary>The job's id.</summary>
    public required JobId Id { get; init; }

    /// <summary>The stable task name.</summary>
    public required string TaskName { get; init; }

    /// <summary>The queue.</summary>
    public required string Queue { get; init; }

    /// <summary>The priority.</summary>
    public Priority Priority { get; init; }

    /// <summary>The current state. A waiting job whose due time has passed (by the store's clock) is reported as <see cref="JobState.Ready"/>.</summary>
    public JobState State { get; init; }

    /// <summary>The serialized payload.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>Attempts started so far (counted at claim).</summary>
    public int Attempt { get; init; }

    /// <summary>Retries allowed after the first attempt.</summary>
    public int MaxRetries { get; init; }

    /// <summary>When the job was inserted, by the store's clock (in UTC).</summary>
    public DateTimeOffset CreatedAt
    {
        get => new(createdAt, TimeSpan.Zero);
        init => createdAt = value.UtcTicks;
    }

    /// <summary>When the job is (or was) due to run, by the store's clock (in UTC).</summary>
    public DateTimeOffset DueAt
    {
        get => new(dueAt, TimeSpan.Zero);
        init => dueAt = value.UtcTicks;
    }

    /// <summary>When the current or last attempt started, by the store's clock (in UTC).</summary>
    public DateTimeOffset? StartedAt
    {
        get => Instant(startedAt);
        init => startedAt = Ticks(value);
    }

    /// <summary>When the job reached a final state, by the store's clock.</summary>
    public DateTimeOffset? FinishedAt
    {
        get => details?.FinishedAt;
        init => details = Details.Set(details, value, static (d, v) => d with { FinishedAt = v });
    }

    /// <summary>When the current lease expires (running jobs only), by the store's clock (in UTC).</summary>
    public DateTimeOffset? LeaseExpiresAt
    {
        get => Instant(leaseExpiresAt);
        init => leaseExpiresAt = Ticks(value);
    }

    /// <summary>The token of the current lease (running jobs only); every write about the running job must present it.</summary>
    public Guid? LeaseToken { get; init; }

    /// <summary>
    /// For a succeeded job: the lease token of the attempt that succeeded. It identifies that attempt's result, so a
    /// result written late by a stale attempt (one whose lease was lost) is never returned.
    /// </summary>
    public Guid? SucceededLeaseToken
    {
        get => details?.SucceededLeaseToken;
        init => details = Details.Set(details, value, static (d, v) => d with { SucceededLeaseToken = v });
    }

    /// <summary>The worker holding the lease, or the one that ran the job last.</summary>
    public string? WorkerId { get; init; }

    /// <summary>The deduplication key (scoped to the queue), while it is held.</summary>
    public string? UniqueKey
    {
        get => details?.UniqueKey;
        init => details = Details.Set(details, value, static (d, v) => d with { UniqueKey = v });
    }

    /// <summary>The last error, if an attempt failed.</summary>
    public string? LastError
    {
        get => details?.LastError;
        init => details = Details.Set(details, value, static (d, v) => d with { LastError = v });
    }

    /// <summary>When a worker first found the task unknown (by the store's clock), while the job waits for a worker that knows it.</summary>
    public DateTimeOffset? UnknownTaskSince
    {
        get => details?.UnknownTaskSince;
        init => details = Details.Set(details, value, static (d, v) => d with { UnknownTaskSince = v });
    }

    /// <summary>The progress the running (or last) attempt reported, from 0 to 1.</summary>
    public double? Progress
    {
        get => details?.Progress;
        init => details = Details.Set(details, value, static (d, v) => d with { Progress = v });
    }

    /// <summary>The message that came with <see cref="Progress"/>.</summary>
    public string? ProgressMessage
    {
        get => details?.ProgressMessage;
        init => details = Details.Set(details, value, static (d, v) => d with { ProgressMessage = v });
    }

    /// <summary>The W3C <c>traceparent</c> of the enqueuing activity.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> of the enqueuing activity.</summary>
    public string? TraceState { get; init; }

    /// <summary>The reference a store needs to find this job.</summary>
    public JobRef Ref => new(Id, Queue);

    private static DateTimeOffset? Instant(long ticks) => ticks == NoInstant ? null : new DateTimeOffset(ticks, TimeSpan.Zero);

    private static long Ticks(DateTimeOffset? value) => value?.UtcTicks ?? NoInstant;

    /// <summary>The fields of a record that are rarely set; an instance with none set is never kept (it is null instead).</summary>
    private sealed record Details
    {
        public static readonly Details Empty = new();

        public DateTimeOffset? FinishedAt { get; init; }

        public Guid? SucceededLeaseToken { get; init; }

        public string? UniqueKey { get; init; }

        public string? LastError { get; init; }

        public DateTimeOffset? UnknownTaskSince { get; init; }

        public double? Progress { get; init; }

        public string? ProgressMessage { get; init; }

        /// <summary>
        /// <paramref name="details"/> with one field set by <paramref name="apply"/> (a copy: a built instance is never
        /// changed); null when nothing is set, so records that differ only in how they were built compare equal.
        /// </summary>
        public static Details? Set<T>(Details? details, T value, Func<Details, T, Details> apply)
        {
            if (value is null && details is null)
            {
                return null;
            }

            var set = apply(details ?? Empty, value);
            return set == Empty ? null : set;
        }
    }
}

/// <summary>
/// How a store finds a job: its id and its queue. Every operation about one job takes a reference, so a sharded
/// backend can keep each queue in one shard (a Redis Cluster hash slot) and never search for a job across shards.
/// </summary>
/// <param name="Id">The job's id.</param>
/// <param name="Queue">The job's queue.</param>
public readonly record struct JobRef(JobId Id, string Queue)
{
    /// <inheritdoc />
    public override string ToString() => $"{Id} ({Queue})";
}

/// <summary>A job to insert.</summary>
public sealed record JobInsert
{
    /// <summary>The id, generated by the client.</summary>
    public required JobId Id { get; init; }

    /// <summary>The task name.</summary>
    public required string TaskName { get; init; }

    /// <summary>The queue.</summary>
    public required string Queue { get; init; }

    /// <summary>The priority.</summary>
    public Priority Priority { get; init; } = Priority.Normal;

    /// <summary>The serialized payload.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>Retries allowed after the first attempt.</summary>
    public int MaxRetries { get; init; }

    /// <summary>Run no earlier than this instant; <see langword="null"/> means now.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>Run no earlier than this long after insert, by the store's clock (added to <see cref="RunAt"/> or now).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>
    /// A deduplication key, scoped to <see cref="Queue"/> and backed by the store's own unique constraint: while a job
    /// of the queue holds it, inserting another job with it returns the existing job's id.
    /// </summary>
    public string? UniqueKey { get; init; }

    /// <summary>Keep the key taken after the job finishes, until it is deleted or pruned (otherwise a finished job releases it).</summary>
    public bool UniqueUntilPruned { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the enqueuing activity.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> of the enqueuing activity.</summary>
    public string? TraceState { get; init; }
}

/// <summary>
/// Which jobs an administrative list, count or bulk action covers. Every criterion that is set must match; an empty
/// filter matches every job.
/// </summary>
public sealed record JobFilter
{
    /// <summary>Only jobs of this queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Only jobs in this state (a waiting job past its due time counts as <see cref="JobState.Ready"/>).</summary>
    public JobState? State { get; init; }

    /// <summary>Only jobs of this task.</summary>
    public string? TaskName { get; init; }

    /// <summary>
    /// Only jobs whose payload (as UTF-8 text) or last error contains this text, ignoring the case of ASCII letters.
    /// Needs <see cref="StorageCapabilities.TextSearch"/>; a store without it refuses the filter.
    /// </summary>
    public string? Text { get; init; }

    /// <summary>Only jobs created at or after this instant.</summary>
    public DateTimeOffset? CreatedAfter { get; init; }

    /// <summary>Only jobs created before this instant.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>Whether <paramref name="job"/> matches every criterion except <see cref="Text"/> (for in-process stores).</summary>
    public bool MatchesFields(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return (Queue is null || string.Equals(job.Queue, Queue, StringComparison.Ordinal))
               && (State is null || job.State == State)
               && (TaskName is null || string.Equals(job.TaskName, TaskName, StringComparison.Ordinal))
               && (CreatedAfter is null || job.CreatedAt >= CreatedAfter)
               && (CreatedBefore is null || job.CreatedAt < CreatedBefore);
    }
}

/// <summary>A queue and its per-state counts.</summary>
public sealed record QueueInfo
{
    /// <summary>The queue name.</summary>
    public required string Name { get; init; }

    /// <summary>Whether workers skip it.</summary>
    public bool Paused { get; init; }

    /// <summary>Jobs per state (every state present, zero when empty).</summary>
    public required IReadOnlyDictionary<JobState, long> Counts { get; init; }

    /// <summary>Jobs waiting to run (scheduled + ready).</summary>
    public long Length => Counts[JobState.Scheduled] + Counts[JobState.Ready];
}

/// <summary>What a worker tells the store about itself at every heartbeat (the worker registry).</summary>
public sealed record WorkerRegistration
{
    /// <summary>The worker's id.</summary>
    public required string Id { get; init; }

    /// <summary>The machine it runs on.</summary>
    public string? Host { get; init; }

    /// <summary>Its process id.</summary>
    public int ProcessId { get; init; }

    /// <summary>The queues it serves.</summary>
    public IReadOnlyList<string> Queues { get; init; } = [];

    /// <summary>The task names it can run.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];

    /// <summary>A hash of the task contracts it was built with (names, queues and payload shapes), if known.</summary>
    public string? ContractHash { get; init; }

    /// <summary>
    /// The tasks of <see cref="Tasks"/> whose payloads have members marked <see cref="SensitiveAttribute"/>
    /// (<see cref="Registration.JobTask.HasSensitiveMembers"/>): a tool without the task registry (the CLI) hides their
    /// values, and shows the payloads of the other tasks of <see cref="Tasks"/> as stored. <see langword="null"/> when the
    /// worker does not report it (an older version): its tasks are then unclassified.
    /// </summary>
    public IReadOnlyList<string>? SensitiveTasks { get; init; }

    /// <summary>
    /// For tasks of <see cref="SensitiveTasks"/>: the top-level payload members that hold no sensitive value, by task
    /// name. A tool without the task registry prints those values as stored and every other value as <c>"***"</c> (a
    /// member holding a sensitive member anywhere inside is hidden whole). A task missing here has every value hidden.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? VisibleMembers { get; init; }

    /// <summary>The most jobs it runs at once.</summary>
    public int Concurrency { get; init; }

    /// <summary>The jobs it was running at this heartbeat.</summary>
    public int Running { get; init; }
}

/// <summary>A worker as the registry holds it.</summary>
public sealed record WorkerInfo
{
    /// <summary>What the worker registered.</summary>
    public required WorkerRegistration Registration { get; init; }

    /// <summary>Its first heartbeat, by the store's clock.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Its last heartbeat, by the store's clock.</summary>
    public DateTimeOffset LastHeartbeatAt { get; init; }
}

/// <summary>Jobs that finished in one minute (by the store's clock), for a throughput chart.</summary>
/// <param name="Minute">The start of the minute, UTC.</param>
/// <param name="Succeeded">Attempts that succeeded in that minute.</param>
/// <param name="Failed">Attempts that failed in that minute (retried or dead-lettered), and jobs dead-lettered by rescue.</param>
public readonly record struct ThroughputBucket(DateTimeOffset Minute, long Succeeded, long Failed);
