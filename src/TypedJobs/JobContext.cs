namespace TypedJobs;

/// <summary>What a running job knows about itself. Handlers may take it as a parameter.</summary>
public sealed class JobContext
{
    private readonly Action<double, string?>? progress;

    internal JobContext(JobId id, string taskName, string queue, Priority priority, int attempt, int maxRetries,
        DateTimeOffset createdAt, string workerId, IServiceProvider services, CancellationToken cancellationToken,
        Action<double, string?>? progress = null)
    {
        this.progress = progress;
        JobId = id;
        TaskName = taskName;
        Queue = queue;
        Priority = priority;
        Attempt = attempt;
        MaxRetries = maxRetries;
        CreatedAt = createdAt;
        WorkerId = workerId;
        Services = services;
        CancellationToken = cancellationToken;
    }

    /// <summary>The job's id.</summary>
    public JobId JobId { get; }

    /// <summary>The task's stable name.</summary>
    public string TaskName { get; }

    /// <summary>The queue the job was claimed from.</summary>
    public string Queue { get; }

    /// <summary>The job's priority.</summary>
    public Priority Priority { get; }

    /// <summary>The current attempt, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>How many retries the job has in total.</summary>
    public int MaxRetries { get; }

    /// <summary>Whether this attempt is the last one before the job is dead-lettered on failure.</summary>
    public bool IsLastAttempt => Attempt > MaxRetries;

    /// <summary>When the job was enqueued, by the store's clock.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The id of the worker running the job.</summary>
    public string WorkerId { get; }

    /// <summary>The job's own dependency-injection scope.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Fires on cancellation, timeout, lost lease or host shutdown.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Reports how far the attempt has come, for the dashboard and the CLI: <paramref name="value"/> from 0 to 1 and an
    /// optional short message (at most 200 characters). Cheap to call often: only the latest report is kept, and it is
    /// written to the store about once a second, fenced by the attempt's lease.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is not between 0 and 1.</exception>
    public ValueTask ReportProgressAsync(double value, string? message = null, CancellationToken cancellationToken = default)
    {
        if (double.IsNaN(value) || value < 0 || value > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Progress must be between 0 and 1.");
        }

        if (message is { Length: > 200 })
        {
            message = message[..200];
        }

        cancellationToken.ThrowIfCancellationRequested();
        progress?.Invoke(value, message);
        return ValueTask.CompletedTask;
    }
}
