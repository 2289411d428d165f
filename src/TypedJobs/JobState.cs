namespace TypedJobs;

/// <summary>The lifecycle state of a job.</summary>
public enum JobState
{
    /// <summary>Waiting for its due time (a delayed job, or a retry waiting out its backoff).</summary>
    Scheduled = 0,

    /// <summary>Due and waiting for a worker.</summary>
    Ready = 1,

    /// <summary>Claimed by a worker that holds a live lease on it.</summary>
    Running = 2,

    /// <summary>Finished successfully.</summary>
    Succeeded = 3,

    /// <summary>Failed permanently or exhausted its retries (the dead-letter state).</summary>
    Dead = 4,

    /// <summary>Cancelled by an operator or the application.</summary>
    Cancelled = 5,
}

/// <summary>Helpers for <see cref="JobState"/>.</summary>
public static class JobStates
{
    /// <summary>All states, in lifecycle order.</summary>
    public static IReadOnlyList<JobState> All { get; } =
        [JobState.Scheduled, JobState.Ready, JobState.Running, JobState.Succeeded, JobState.Dead, JobState.Cancelled];

    /// <summary>Whether the state is final (succeeded, dead or cancelled).</summary>
    public static bool IsFinished(this JobState state) => state >= JobState.Succeeded;
}
