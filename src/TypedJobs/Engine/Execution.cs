using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>Why a running attempt was told to stop.</summary>
internal enum StopReason
{
    None,

    /// <summary>The job was cancelled (in this process, or the store took the lease away).</summary>
    Cancelled,

    /// <summary>The worker can no longer prove it holds the lease.</summary>
    LeaseLost,

    /// <summary>The task's timeout passed.</summary>
    Timeout,

    /// <summary>The worker is shutting down.</summary>
    Shutdown,
}

/// <summary>
/// One claim of a job: its cancellation, why it stops, its progress, and whether it is finished. An attempt finishes
/// exactly once — when its handler returns, or earlier when the engine gives up on a handler that ignores its
/// cancellation — so a late handler can never report a second outcome.
/// </summary>
internal sealed class Execution : ILocalJob, IThreadPoolWorkItem, IDisposable
{
    private readonly CancellationTokenSource cts = new();
    private readonly JobWorker owner;
    private int reason;
    private int finished;
    private ProgressUpdate? progress;

    public Execution(JobWorker owner, JobRecord job)
    {
        this.owner = owner;
        Job = job;
        Lease = new JobLease(job.Ref, job.LeaseToken!.Value);
    }

    public JobRecord Job { get; }

    public JobLease Lease { get; }

    public JobTask? Task { get; set; }

    public CancellationToken Token => cts.Token;

    public StopReason Reason => (StopReason)Volatile.Read(ref reason);

    public bool IsFinished => Volatile.Read(ref finished) != 0;

    /// <summary>Fires the attempt's token once, remembering the first reason.</summary>
    public void Cancel(StopReason why)
    {
        if (Interlocked.CompareExchange(ref reason, (int)why, (int)StopReason.None) == (int)StopReason.None)
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Marks the attempt finished; only the first caller gets <see langword="true"/>.</summary>
    public bool TryFinish() => Interlocked.Exchange(ref finished, 1) == 0;

    /// <summary>Records the latest progress; the lease keeper writes it with the next heartbeat.</summary>
    public void SetProgress(double value, string? message) => Volatile.Write(ref progress, new ProgressUpdate(value, message));

    /// <summary>Takes the progress reported since the last call, if any.</summary>
    public ProgressUpdate? TakeProgress() => Interlocked.Exchange(ref progress, null);

    public void Dispose() => cts.Dispose();

    void IThreadPoolWorkItem.Execute() => _ = owner.RunAsync(this);

    void ILocalJob.Cancel() => Cancel(StopReason.Cancelled);

    internal sealed record ProgressUpdate(double Value, string? Message);
}

/// <summary>The engine's decision about one attempt, waiting for the completer to write it.</summary>
internal sealed class Outcome(JobRecord job, AttemptOutcome kind, JobCompletion completion, JobTask? task)
{
    public JobRecord Job { get; } = job;

    public AttemptOutcome Kind { get; } = kind;

    public JobCompletion Completion { get; } = completion;

    public JobTask? Task { get; } = task;

    /// <summary>A result for a results store that is not the jobs store (keyed by the attempt's lease token).</summary>
    public byte[]? Result { get; init; }

    public TimeSpan ResultTtl { get; init; }

    public TimeSpan Delay { get; init; }

    public string? Error { get; init; }

    public bool Failed { get; init; }

    public Exception? Exception { get; init; }

    public TimeSpan Duration { get; set; }

    /// <summary>Whether the store applied the completion (it refuses one whose lease was lost or whose job finished meanwhile).</summary>
    public bool Applied { get; set; }

    public JobLease Lease => new(Job.Ref, Job.LeaseToken!.Value);
}
