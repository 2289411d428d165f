using Microsoft.Extensions.Logging;

namespace TypedJobs.Scheduling;

internal static partial class SchedulerLog
{
    [LoggerMessage(100, LogLevel.Information, "Scheduler started with {Declared} schedules declared in code")]
    public static partial void Started(ILogger logger, int declared);

    [LoggerMessage(101, LogLevel.Information, "The scheduler is disabled in this process (TypedJobs:Scheduler:Enabled = false)")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(102, LogLevel.Debug, "Schedule {Name} enqueued occurrence {Occurrence:O} as job {JobId}")]
    public static partial void Fired(ILogger logger, string name, DateTimeOffset occurrence, JobId jobId);

    [LoggerMessage(103, LogLevel.Warning, "Schedule {Name} missed occurrences from {First:O} to {Last:O}; {Enqueued} were enqueued ({Policy})")]
    public static partial void Missed(ILogger logger, string name, DateTimeOffset first, DateTimeOffset last, int enqueued, MissedRunPolicy policy);

    [LoggerMessage(104, LogLevel.Warning, "Schedule {Name} runs task {Task}, which is not registered in this process; it is left to scheduler instances that know the task")]
    public static partial void UnknownTask(ILogger logger, string name, string task);

    [LoggerMessage(105, LogLevel.Error, "Schedule {Name} could not be fired; it is retried at the next pass")]
    public static partial void FireFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(106, LogLevel.Error, "The scheduler's store call failed; retrying in {Delay}")]
    public static partial void PassFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(107, LogLevel.Debug, "Schedule {Name} was advanced by another scheduler instance first")]
    public static partial void LostRace(ILogger logger, string name);

    [LoggerMessage(108, LogLevel.Information, "Schedule {Name} declared in code added: {Timing}")]
    public static partial void DeclaredAdded(ILogger logger, string name, string timing);

    [LoggerMessage(109, LogLevel.Information, "Schedule {Name} updated from its declaration in code: {Timing} (paused: {Paused})")]
    public static partial void DeclaredUpdated(ILogger logger, string name, string timing, bool paused);

    [LoggerMessage(110, LogLevel.Warning, "Schedule {Name} was changed at run time ({Stored}); its declaration in code ({Declared}) is not applied until the schedule is removed")]
    public static partial void DeclaredOverridden(ILogger logger, string name, string declared, string stored);

    [LoggerMessage(111, LogLevel.Warning, "Task {Task} declares a schedule but cannot read the empty JSON object its occurrences enqueue without stored arguments: {Error}")]
    public static partial void DeclaredPayloadInvalid(ILogger logger, string task, string error);
}
