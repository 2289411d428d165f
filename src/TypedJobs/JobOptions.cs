namespace TypedJobs;

/// <summary>Per-enqueue settings. Every property left <see langword="null"/> falls back to the task's declared setting.</summary>
public sealed record JobOptions
{
    /// <summary>The queue to put the job in.</summary>
    public string? Queue { get; init; }

    /// <summary>The job's priority: one of the four defined levels (another value is refused at enqueue).</summary>
    public Priority? Priority { get; init; }

    /// <summary>Run the job no earlier than this long after enqueue. Mutually exclusive with <see cref="RunAt"/>.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Run the job no earlier than this instant. Mutually exclusive with <see cref="Delay"/>.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>
    /// A deduplication key: while a job with this key exists (waiting or running; see <see cref="UniqueUntilPruned"/>),
    /// enqueuing another one returns the existing job's id instead of inserting.
    /// </summary>
    public string? UniqueKey { get; init; }

    /// <summary>
    /// When <see langword="true"/>, the <see cref="UniqueKey"/> stays taken after the job finished, until the job is
    /// deleted or pruned. When <see langword="false"/> (the default) the key is released when the job finishes.
    /// </summary>
    public bool UniqueUntilPruned { get; init; }

    /// <summary>How many times a failed job is retried before it is dead-lettered.</summary>
    public int? MaxRetries { get; init; }
}
