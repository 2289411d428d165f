namespace TypedJobs;

/// <summary>
/// Marks a method as a background task. The TypedJobs source generator emits a strongly typed enqueue
/// method for it on <see cref="IJobClient"/>, a reflection-free serializer for its parameters and the
/// handler registration. All values must be compile-time constants.
/// </summary>
/// <remarks>
/// The payload of a task is the method's parameter list, except <see cref="CancellationToken"/>,
/// <see cref="JobContext"/> and parameters marked <c>[FromServices]</c>.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class TaskAttribute : Attribute
{
    /// <summary>The stable task name stored with every job. Defaults to <c>Namespace.Type.Method</c>.</summary>
    public string? Name { get; set; }

    /// <summary>The queue jobs of this task go to. Defaults to <c>"default"</c>.</summary>
    public string? Queue { get; set; }

    /// <summary>The priority jobs of this task get unless the enqueue call overrides it.</summary>
    public Priority Priority { get; set; } = Priority.Normal;

    /// <summary>How many times a failed job is retried before it is dead-lettered. <c>-1</c> means the host default.</summary>
    public int MaxRetries { get; set; } = -1;

    /// <summary>The base delay of the exponential retry backoff, as a <see cref="TimeSpan"/> string (e.g. <c>"00:00:05"</c>).</summary>
    public string? RetryDelay { get; set; }

    /// <summary>The longest delay between two attempts, as a <see cref="TimeSpan"/> string.</summary>
    public string? MaxRetryDelay { get; set; }

    /// <summary>How long one attempt may run before its cancellation token fires, as a <see cref="TimeSpan"/> string.</summary>
    public string? Timeout { get; set; }

    /// <summary>A cron expression (five fields, or six with seconds, or a macro such as <c>@daily</c>) for a recurring task.</summary>
    public string? Cron { get; set; }

    /// <summary>The IANA time zone the <see cref="Cron"/> expression is evaluated in. Defaults to UTC.</summary>
    public string? TimeZone { get; set; }

    /// <summary>A fixed interval for a recurring task, as a <see cref="TimeSpan"/> string.</summary>
    public string? Interval { get; set; }

    /// <summary>
    /// Deduplication: <c>"true"</c> makes jobs with an identical payload unique while one is waiting or running;
    /// a <see cref="TimeSpan"/> string makes them unique within that window.
    /// </summary>
    public string? Unique { get; set; }

    /// <summary>The most executions of this task one worker runs at once. <c>0</c> means no limit beyond the queue's.</summary>
    public int MaxConcurrency { get; set; }
}
