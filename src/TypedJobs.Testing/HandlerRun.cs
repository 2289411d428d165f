using TypedJobs.Registration;

namespace TypedJobs.Testing;

/// <summary>
/// What <see cref="JobTestKit.RunHandlerAsync{TArgs}(TArgs, HandlerRunOptions?)"/> gives the handler's
/// <see cref="JobContext"/>: the attempt, the cancellation and the rest, all under the test's control.
/// </summary>
public sealed class HandlerRunOptions
{
    /// <summary>The attempt the handler sees, starting at 1. Default 1.</summary>
    public int Attempt { get; set; } = 1;

    /// <summary>The job's total retries; <see langword="null"/> takes the task's (or the host's default).</summary>
    public int? MaxRetries { get; set; }

    /// <summary>The job's id; <see langword="null"/> makes a new one.</summary>
    public JobId? JobId { get; set; }

    /// <summary>The queue; <see langword="null"/> takes the task's (or the host's default).</summary>
    public string? Queue { get; set; }

    /// <summary>The token the handler gets as <see cref="JobContext.CancellationToken"/>: cancel it to test how the handler stops.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Hears every <see cref="JobContext.ReportProgressAsync"/> call as it happens, in addition to <see cref="HandlerRun.Progress"/>.</summary>
    public Action<double, string?>? OnProgress { get; set; }
}

/// <summary>One direct run of a task's handler by <see cref="JobTestKit.RunHandlerAsync{TArgs}(TArgs, HandlerRunOptions?)"/>.</summary>
public sealed class HandlerRun
{
    private readonly JobTask task;
    private readonly List<(double Value, string? Message)> progress;

    internal HandlerRun(JobTask task, JobContext context, byte[]? result, List<(double Value, string? Message)> progress)
    {
        this.task = task;
        Context = context;
        Result = result;
        this.progress = progress;
    }

    /// <summary>The context the handler got.</summary>
    public JobContext Context { get; }

    /// <summary>Every progress report of the handler, in order.</summary>
    public IReadOnlyList<(double Value, string? Message)> Progress
    {
        get
        {
            lock (progress)
            {
                return progress.ToArray();
            }
        }
    }

    /// <summary>The serialized result, for a task that returns one.</summary>
    public ReadOnlyMemory<byte>? Result { get; }

    /// <summary>The handler's result, read back with the task's result serializer (as a job's result would be).</summary>
    /// <exception cref="InvalidOperationException">The task returns no result.</exception>
    /// <exception cref="InvalidCastException">The task's result is not a <typeparamref name="T"/>.</exception>
    public T GetResult<T>()
    {
        if (Result is not { } result)
        {
            throw new InvalidOperationException($"The task '{task.Name}' returns no result.");
        }

        return (T)task.DecodeResult(result.Span)!;
    }
}
