namespace TypedJobs.Registration;

/// <summary>The declared settings of a task. Every <see langword="null"/> falls back to the host's defaults.</summary>
public sealed record TaskSettings
{
    /// <summary>The settings used when none are declared.</summary>
    public static TaskSettings Default { get; } = new();

    /// <summary>The queue jobs of this task go to. Defaults to <c>"default"</c>.</summary>
    public string? Queue { get; init; }

    /// <summary>The default priority.</summary>
    public Priority Priority { get; init; } = Priority.Normal;

    /// <summary>How many times a failed job is retried before it is dead-lettered.</summary>
    public int? MaxRetries { get; init; }

    /// <summary>The base delay of the exponential retry backoff.</summary>
    public TimeSpan? RetryDelay { get; init; }

    /// <summary>The longest delay between two attempts.</summary>
    public TimeSpan? MaxRetryDelay { get; init; }

    /// <summary>How long one attempt may run before its cancellation token fires and the attempt fails.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Jobs with an identical payload are deduplicated while one is waiting or running.</summary>
    public bool UniqueByPayload { get; init; }

    /// <summary>Jobs with an identical payload are deduplicated within windows of this length (implies <see cref="UniqueByPayload"/>).</summary>
    public TimeSpan? UniqueWindow { get; init; }

    /// <summary>The most executions of this task one worker runs at once; <c>0</c> means no task-level limit.</summary>
    public int MaxConcurrency { get; init; }

    /// <summary>How long a result is kept after the job succeeded.</summary>
    public TimeSpan? ResultRetention { get; init; }

    /// <summary>A cron expression for a recurring task (read by the scheduler).</summary>
    public string? Cron { get; init; }

    /// <summary>The IANA time zone of <see cref="Cron"/>.</summary>
    public string? TimeZone { get; init; }

    /// <summary>A fixed interval for a recurring task (read by the scheduler).</summary>
    public TimeSpan? Interval { get; init; }
}
