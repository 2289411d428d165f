namespace TypedJobs.Events;

/// <summary>The kinds of lifecycle events.</summary>
public enum JobEventKind
{
    /// <summary>A job was inserted.</summary>
    Enqueued,

    /// <summary>A worker started an attempt.</summary>
    Started,

    /// <summary>The job succeeded.</summary>
    Succeeded,

    /// <summary>An attempt failed (followed by <see cref="Retried"/> or <see cref="Dead"/>).</summary>
    Failed,

    /// <summary>The job was scheduled for another attempt.</summary>
    Retried,

    /// <summary>The job was dead-lettered.</summary>
    Dead,

    /// <summary>The job was cancelled.</summary>
    Cancelled,

    /// <summary>The job's lease expired and the rescuer returned it to the queue (or dead-lettered it).</summary>
    Rescued,

    /// <summary>The job postponed itself without consuming an attempt.</summary>
    Snoozed,

    /// <summary>The worker shut down and returned the job to the queue without consuming an attempt.</summary>
    Released,
}

/// <summary>A lifecycle event of one job.</summary>
public sealed record JobEvent
{
    /// <summary>What happened.</summary>
    public required JobEventKind Kind { get; init; }

    /// <summary>The job.</summary>
    public required JobId JobId { get; init; }

    /// <summary>The task.</summary>
    public required string TaskName { get; init; }

    /// <summary>The queue.</summary>
    public required string Queue { get; init; }

    /// <summary>The attempt the event belongs to (0 before the first).</summary>
    public int Attempt { get; init; }

    /// <summary>When it happened.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The error of a failed attempt.</summary>
    public string? Error { get; init; }

    /// <summary>The worker involved, if any.</summary>
    public string? WorkerId { get; init; }

    /// <summary>For <see cref="JobEventKind.Retried"/> and <see cref="JobEventKind.Snoozed"/>: the delay before the next attempt.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>For <see cref="JobEventKind.Succeeded"/> and failures: how long the attempt ran.</summary>
    public TimeSpan? Duration { get; init; }
}

/// <summary>
/// Receives lifecycle events in process. Register with <c>AddObserver&lt;T&gt;()</c>. Events are delivered on a
/// background loop in the order this process published them; a slow or failing observer never slows or fails a job.
/// <see cref="JobEventKind.Enqueued"/> is published by the enqueuing caller after the store confirmed the insert, so
/// a worker that picks the job up at once may report <see cref="JobEventKind.Started"/> first.
/// </summary>
public interface IJobEventObserver
{
    /// <summary>Called once per event.</summary>
    ValueTask OnEventAsync(JobEvent jobEvent, CancellationToken cancellationToken);
}
