namespace TypedJobs;

/// <summary>What a running job knows about itself. Handlers may take it as a parameter.</summary>
public sealed class JobContext
{
    // The attempt (its job, worker, services, token and progress) rather than copies of its fields: a context costs one
    // reference per attempt, the smallest object there is.
    private readonly IJobContextHost host;

    internal JobContext(JobId id, string taskName, string queue, Priority priority, int attempt, int maxRetries,
        DateTimeOffset createdAt, string workerId, IServiceProvider services, CancellationToken cancellationToken,
        Action<double, string?>? progress = null)
        : this(new StandaloneHost(new Storage.JobRecord
        {
            Id = id,
            TaskName = taskName,
            Queue = queue,
            Priority = priority,
            Attempt = attempt,
            MaxRetries = maxRetries,
            CreatedAt = createdAt,
            Payload = [],
        }, workerId, services, cancellationToken, progress))
    {
    }

    /// <summary>A context whose job, worker, services, token and progress come from the engine's attempt (its DI scope is made on first use).</summary>
    internal JobContext(IJobContextHost host) => this.host = host;

    private Storage.JobRecord Record => host.Job;

    /// <summary>The job's id.</summary>
    public JobId JobId => Record.Id;

    /// <summary>The task's stable name.</summary>
    public string TaskName => Record.TaskName;

    /// <summary>The queue the job was claimed from.</summary>
    public string Queue => Record.Queue;

    /// <summary>The job's priority.</summary>
    public Priority Priority => Record.Priority;

    /// <summary>The current attempt, starting at 1.</summary>
    public int Attempt => Record.Attempt;

    /// <summary>How many retries the job has in total.</summary>
    public int MaxRetries => Record.MaxRetries;

    /// <summary>Whether this attempt is the last one before the job is dead-lettered on failure.</summary>
    public bool IsLastAttempt => Attempt > MaxRetries;

    /// <summary>When the job was enqueued, by the store's clock.</summary>
    public DateTimeOffset CreatedAt => Record.CreatedAt;

    /// <summary>The id of the worker running the job.</summary>
    public string WorkerId => host.WorkerId;

    /// <summary>The job's own dependency-injection scope (created when first used, disposed when the attempt ends).</summary>
    public IServiceProvider Services => host.Services;

    /// <summary>Fires on cancellation, timeout, lost lease or host shutdown.</summary>
    public CancellationToken CancellationToken => host.Token;

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
        host.SetProgress(value, message);
        return ValueTask.CompletedTask;
    }

    /// <summary>What a context made outside the engine's attempts (the testing kit) reads its job, worker, services, token and progress from.</summary>
    private sealed class StandaloneHost(Storage.JobRecord job, string workerId, IServiceProvider services, CancellationToken token,
        Action<double, string?>? progress) : IJobContextHost
    {
        public Storage.JobRecord Job => job;

        public string WorkerId => workerId;

        public IServiceProvider Services => services;

        public CancellationToken Token => token;

        public void SetProgress(double value, string? message) => progress?.Invoke(value, message);
    }
}

/// <summary>What a <see cref="JobContext"/> asks of the attempt that runs it.</summary>
internal interface IJobContextHost
{
    /// <summary>The claimed job.</summary>
    Storage.JobRecord Job { get; }

    /// <summary>The id of the worker running the job.</summary>
    string WorkerId { get; }

    /// <summary>The attempt's DI scope's services.</summary>
    IServiceProvider Services { get; }

    /// <summary>The attempt's cancellation token (its source is created when first asked for).</summary>
    CancellationToken Token { get; }

    /// <summary>Records progress for the next heartbeat.</summary>
    void SetProgress(double value, string? message);
}
