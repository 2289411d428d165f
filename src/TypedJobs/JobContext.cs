namespace TypedJobs;

/// <summary>What a running job knows about itself. Handlers may take it as a parameter.</summary>
public sealed class JobContext
{
    internal JobContext(JobId id, string taskName, string queue, Priority priority, int attempt, int maxRetries,
        DateTimeOffset createdAt, string workerId, IServiceProvider services, CancellationToken cancellationToken)
    {
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
}
