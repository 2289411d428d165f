using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>How an attempt ended, as the engine classified it.</summary>
internal enum AttemptOutcome
{
    Succeeded,
    Retry,
    Dead,
    Snooze,
    Release,
    Cancelled,
}

/// <summary>
/// The job state machine, in one place: what each way an attempt can end does to the job. Every function returns the
/// decided completion (target state, delay from the store's clock, attempt adjustment, error, result) that a store
/// applies only while the attempt's lease token still matches. Stores never decide any of this; the one rule a store
/// evaluates itself is rescue (an expired lease returns the job to Ready, or to Dead when no attempt is left).
/// </summary>
internal static class JobTransitions
{
    /// <summary>The attempt succeeded: the job is finished, with its result when the jobs store holds results.</summary>
    public static JobCompletion Succeeded(JobRecord job, byte[]? resultInCompletion, TimeSpan resultTtl) => new()
    {
        Job = job.Ref,
        LeaseToken = LeaseOf(job),
        TargetState = JobState.Succeeded,
        Result = resultInCompletion,
        ResultTtl = resultInCompletion is null ? TimeSpan.Zero : Capped(resultTtl),
    };

    /// <summary><paramref name="delay"/> within zero and <see cref="StorageRules.MaxDelay"/>, the range every store accepts.</summary>
    public static TimeSpan Capped(TimeSpan delay) =>
        delay < TimeSpan.Zero ? TimeSpan.Zero : delay > StorageRules.MaxDelay ? StorageRules.MaxDelay : delay;

    /// <summary>
    /// The attempt failed: dead when the failure is permanent or no attempt is left (attempt &gt; max retries), else back
    /// to waiting for the backoff delay, keeping the attempt.
    /// </summary>
    public static (AttemptOutcome Outcome, JobCompletion Completion) Failed(JobRecord job, string error, bool permanent, TimeSpan backoff)
    {
        if (permanent || job.Attempt > job.MaxRetries)
        {
            return (AttemptOutcome.Dead, new JobCompletion
            {
                Job = job.Ref,
                LeaseToken = LeaseOf(job),
                TargetState = JobState.Dead,
                Error = error,
                Failed = true,
            });
        }

        return (AttemptOutcome.Retry, new JobCompletion
        {
            Job = job.Ref,
            LeaseToken = LeaseOf(job),
            TargetState = JobState.Ready,
            Delay = Capped(backoff),
            Error = error,
            Failed = true,
        });
    }

    /// <summary>The handler asked to run again later: waiting for the delay, the attempt given back, the last error kept.</summary>
    public static JobCompletion Snooze(JobRecord job, TimeSpan delay) => new()
    {
        Job = job.Ref,
        LeaseToken = LeaseOf(job),
        TargetState = JobState.Ready,
        Delay = Capped(delay),
        AttemptDelta = -1,
    };

    /// <summary>The worker shut down before the attempt finished: ready again at its old due time, the attempt given back.</summary>
    public static JobCompletion Release(JobRecord job) => new()
    {
        Job = job.Ref,
        LeaseToken = LeaseOf(job),
        TargetState = JobState.Ready,
        Delay = null,
        AttemptDelta = -1,
    };

    /// <summary>The attempt asked for the job to be cancelled: finished as cancelled.</summary>
    public static JobCompletion Cancelled(JobRecord job, string? reason) => new()
    {
        Job = job.Ref,
        LeaseToken = LeaseOf(job),
        TargetState = JobState.Cancelled,
        Error = reason,
    };

    /// <summary>
    /// No registration in this worker knows the job's task. While the grace period (counted by the store's clock from
    /// when a worker first found it unknown) has not passed, the job waits a little without using an attempt, for a
    /// worker that knows the task (a rolling deploy); after it, the job is dead-lettered with a message naming the task.
    /// </summary>
    public static (AttemptOutcome Outcome, JobCompletion Completion) UnknownTask(JobRecord job, string workerId, TimeSpan gracePeriod,
        TimeSpan retryDelay)
    {
        var claimedAt = job.StartedAt ?? job.DueAt;
        if (job.UnknownTaskSince is { } since && claimedAt - since >= gracePeriod)
        {
            return (AttemptOutcome.Dead, new JobCompletion
            {
                Job = job.Ref,
                LeaseToken = LeaseOf(job),
                TargetState = JobState.Dead,
                Error = $"No worker that claimed the job knows the task '{job.TaskName}' (first seen unknown at {since:O}; grace period {gracePeriod}).",
                Failed = true,
            });
        }

        return (AttemptOutcome.Snooze, new JobCompletion
        {
            Job = job.Ref,
            LeaseToken = LeaseOf(job),
            TargetState = JobState.Ready,
            Delay = Capped(retryDelay),
            AttemptDelta = -1,
            Error = $"The task '{job.TaskName}' is not registered in worker '{workerId}'; the job waits for a worker that knows it.",
            MarkUnknownTask = true,
        });
    }

    private static Guid LeaseOf(JobRecord job) =>
        job.LeaseToken ?? throw new InvalidOperationException($"Job {job.Id} was not claimed: it has no lease token.");
}
