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
}
