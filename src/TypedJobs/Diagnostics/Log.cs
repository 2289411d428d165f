using Microsoft.Extensions.Logging;

namespace TypedJobs.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Worker {WorkerId} started on queues {Queues} with concurrency {Concurrency}")]
    public static partial void WorkerStarted(ILogger logger, string workerId, string queues, int concurrency);

    [LoggerMessage(2, LogLevel.Information, "Worker {WorkerId} stopped; {Released} unfinished jobs were returned to their queues")]
    public static partial void WorkerStopped(ILogger logger, string workerId, int released);

    [LoggerMessage(3, LogLevel.Warning, "Job {JobId} ({Task}) attempt {Attempt} failed; retrying in {Delay}")]
    public static partial void JobRetrying(ILogger logger, Exception? exception, JobId jobId, string task, int attempt, TimeSpan delay);

    [LoggerMessage(4, LogLevel.Error, "Job {JobId} ({Task}) is dead after attempt {Attempt}: {Error}")]
    public static partial void JobDead(ILogger logger, Exception? exception, JobId jobId, string task, int attempt, string error);

    [LoggerMessage(5, LogLevel.Warning, "Job {JobId} lost its lease; this worker stopped it and its outcome was discarded")]
    public static partial void LeaseLost(ILogger logger, JobId jobId);

    [LoggerMessage(6, LogLevel.Warning, "Rescued {Count} jobs whose lease expired")]
    public static partial void Rescued(ILogger logger, int count);

    [LoggerMessage(7, LogLevel.Error, "Worker {WorkerId}: the store call {Operation} failed; retrying")]
    public static partial void StoreCallFailed(ILogger logger, Exception exception, string workerId, string operation);

    [LoggerMessage(8, LogLevel.Error, "Event observer {Observer} failed on {Kind} of job {JobId}")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, Events.JobEventKind kind, JobId jobId);

    [LoggerMessage(9, LogLevel.Debug, "Job {JobId} ({Task}) succeeded in {Duration}")]
    public static partial void JobSucceeded(ILogger logger, JobId jobId, string task, TimeSpan duration);

    [LoggerMessage(11, LogLevel.Error, "The attempt of job {JobId} failed outside its handler; its lease is let go and the rescuer will return the job to its queue")]
    public static partial void AttemptCrashed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(10, LogLevel.Information, "Maintenance pruned {Jobs} finished jobs, {Results} expired results and {Events} old events")]
    public static partial void Pruned(ILogger logger, int jobs, int results, int events);

    [LoggerMessage(12, LogLevel.Information, "TypedJobs storage is not configured: using {Url} under {ContentRoot}. Set TypedJobs:Storage (e.g. sqlite:jobs.db, memory:, postgres://...) to choose")]
    public static partial void DefaultStorage(ILogger logger, string url, string contentRoot);

    [LoggerMessage(13, LogLevel.Debug, "TypedJobs storage role {Role} is on {Storage} (from {Source})")]
    public static partial void StoragePlaced(ILogger logger, StorageRoles role, string storage, string source);

    [LoggerMessage(14, LogLevel.Critical, "Worker {WorkerId}: writing a batch of {Count} outcomes failed unexpectedly; the writer goes on")]
    public static partial void OutcomeWriterFailed(ILogger logger, Exception exception, string workerId, int count);

    [LoggerMessage(15, LogLevel.Warning, "Worker {WorkerId} stopped before {Count} outcomes could be written; their leases expire and rescue returns the jobs")]
    public static partial void OutcomesAbandoned(ILogger logger, string workerId, int count);

    [LoggerMessage(16, LogLevel.Error, "Reporting the outcome of job {JobId} (metrics, events, logs) failed; the outcome is written")]
    public static partial void ReportFailed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(17, LogLevel.Error, "Worker {WorkerId}: the store answered for {Answered} of {Sent} completions; the others count as refused")]
    public static partial void ShortCompletionResult(ILogger logger, string workerId, int sent, int answered);

    [LoggerMessage(18, LogLevel.Warning, "Job {JobId} ({Task}) ignored its cancellation ({Reason}) for {Grace}; it was given up and its slot freed (the handler may still be running)")]
    public static partial void AttemptAbandoned(ILogger logger, JobId jobId, string task, Engine.StopReason reason, TimeSpan grace);

    [LoggerMessage(19, LogLevel.Warning, "Job {JobId}: the task '{Task}' is not registered in worker {WorkerId}; the job waits for a worker that knows it")]
    public static partial void UnknownTask(ILogger logger, JobId jobId, string task, string workerId);

    [LoggerMessage(20, LogLevel.Warning, "{Dropped} lifecycle events were dropped because observers or the events store fell {Capacity} events behind (TypedJobs:EventBufferSize)")]
    public static partial void EventsDropped(ILogger logger, long dropped, int capacity);

    [LoggerMessage(21, LogLevel.Error, "Maintenance ({Operation}) failed; it is tried again at the next pass")]
    public static partial void MaintenanceFailed(ILogger logger, Exception exception, string operation);

    [LoggerMessage(22, LogLevel.Warning, "Job {JobId}: callbacks registered on its cancellation token threw when the attempt was stopped ({Reason}); the attempt is stopped all the same")]
    public static partial void CancellationCallbacksFailed(ILogger logger, Exception exception, JobId jobId, Engine.StopReason reason);

    [LoggerMessage(23, LogLevel.Error, "Job {JobId}: disposing the attempt's service scope failed; the attempt's outcome stands")]
    public static partial void ScopeDisposeFailed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(24, LogLevel.Error, "Job {JobId}: tracing, metrics or logging failed after the attempt ended; its outcome is written all the same")]
    public static partial void InstrumentationFailed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(25, LogLevel.Warning, "Worker {WorkerId}: the host's shutdown timeout passed with {Running} attempts still running; they are given up now, and outcomes are written for at most {Budget} more")]
    public static partial void ShutdownHurried(ILogger logger, string workerId, int running, TimeSpan budget);

    [LoggerMessage(26, LogLevel.Error, "Worker {WorkerId}: the lease keeper's check of running attempts failed; it checks again at its next tick")]
    public static partial void LeaseCheckFailed(ILogger logger, Exception exception, string workerId);
}
