namespace TypedJobs;

/// <summary>
/// Thrown by a handler to postpone its job to a later time without consuming an attempt
/// (for example, when a rate limit says "come back later").
/// </summary>
public sealed class SnoozeJobException : Exception
{
    /// <summary>Postpones the job by <paramref name="delay"/>.</summary>
    public SnoozeJobException(TimeSpan delay)
        : base($"The job asked to run again in {delay}.")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Delay = delay;
    }

    /// <summary>How long to wait before the next attempt.</summary>
    public TimeSpan Delay { get; }
}

/// <summary>Thrown by a handler to fail its job at once, without further retries: the job goes to the dead letters.</summary>
public sealed class PermanentJobFailureException : Exception
{
    /// <summary>Fails the job permanently with <paramref name="message"/>.</summary>
    public PermanentJobFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Fails the job permanently with <paramref name="message"/> and the underlying cause.</summary>
    public PermanentJobFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Thrown when awaiting the result of a job that ended dead.</summary>
public sealed class JobFailedException : Exception
{
    /// <summary>Creates the exception for the job <paramref name="jobId"/>.</summary>
    public JobFailedException(JobId jobId, string? error)
        : base($"Job {jobId} failed: {error ?? "no error was recorded"}")
    {
        JobId = jobId;
        Error = error;
    }

    /// <summary>The failed job.</summary>
    public JobId JobId { get; }

    /// <summary>The last error recorded for the job.</summary>
    public string? Error { get; }
}

/// <summary>Thrown when awaiting the result of a job that was cancelled or deleted.</summary>
public sealed class JobCancelledException : OperationCanceledException
{
    /// <summary>Creates the exception for the job <paramref name="jobId"/>.</summary>
    public JobCancelledException(JobId jobId, string reason)
        : base($"Job {jobId} {reason}.")
    {
        JobId = jobId;
    }

    /// <summary>The cancelled job.</summary>
    public JobId JobId { get; }
}

/// <summary>Thrown at enqueue when a serialized payload is larger than <c>TypedJobsOptions.MaxPayloadBytes</c>.</summary>
public sealed class PayloadTooLargeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public PayloadTooLargeException(string taskName, int size, int limit)
        : base($"The payload of task '{taskName}' is {size} bytes, more than the limit of {limit} bytes (TypedJobs:MaxPayloadBytes). Store large data elsewhere and pass a reference.")
    {
        TaskName = taskName;
        Size = size;
        Limit = limit;
    }

    /// <summary>The task being enqueued.</summary>
    public string TaskName { get; }

    /// <summary>The payload's size in bytes.</summary>
    public int Size { get; }

    /// <summary>The configured limit in bytes.</summary>
    public int Limit { get; }
}

/// <summary>Thrown when a task name is enqueued or invoked that no registration knows.</summary>
public sealed class UnknownTaskException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UnknownTaskException(string taskName)
        : base($"No task named '{taskName}' is registered in this process. Register it with AddTask(...) or the [Task] attribute.")
    {
        TaskName = taskName;
    }

    /// <summary>The unknown name.</summary>
    public string TaskName { get; }
}
