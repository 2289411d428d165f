namespace TypedJobs;

/// <summary>What the scheduler does with occurrences that passed while no scheduler was running.</summary>
public enum MissedRunPolicy
{
    /// <summary>Enqueue one job for the most recent missed occurrence (the default).</summary>
    RunOnce,

    /// <summary>Enqueue nothing for missed occurrences; an occurrence less than <see cref="SchedulerOptions.LateTolerance"/> late still runs.</summary>
    Skip,

    /// <summary>Enqueue one job per missed occurrence, at most <see cref="SchedulerOptions.MaxCatchUpRuns"/> (the most recent ones).</summary>
    RunAll,
}

/// <summary>
/// Settings of the scheduler, set in <c>AddTypedJobs(o =&gt; o.Scheduler…)</c> or <c>AddScheduler(s =&gt; …)</c>
/// (configuration section <c>TypedJobs:Scheduler</c>). The scheduler runs in every process that calls <c>AddWorker()</c>
/// or <c>AddScheduler()</c>, unless <see cref="Enabled"/> is <see langword="false"/>; any number of instances may run.
/// </summary>
public sealed class SchedulerOptions
{
    /// <summary>Whether this process runs a scheduler. Default <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The longest the scheduler sleeps before it re-reads the schedules (it wakes earlier for the next due occurrence
    /// and for changes made in this process). Bounds how late changes from other processes are seen. Default 15 seconds.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>What happens to occurrences missed during downtime. Default <see cref="MissedRunPolicy.RunOnce"/>.</summary>
    public MissedRunPolicy MissedRuns { get; set; } = MissedRunPolicy.RunOnce;

    /// <summary>The most missed occurrences enqueued per schedule under <see cref="MissedRunPolicy.RunAll"/>. Default 10.</summary>
    public int MaxCatchUpRuns { get; set; } = 10;

    /// <summary>How late an occurrence may be enqueued and still count as on time under <see cref="MissedRunPolicy.Skip"/>. Default 1 minute.</summary>
    public TimeSpan LateTolerance { get; set; } = TimeSpan.FromMinutes(1);

    internal IEnumerable<string> Validate()
    {
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return $"TypedJobs:Scheduler:PollInterval = '{PollInterval}' must be positive.";
        }

        if (!Enum.IsDefined(MissedRuns))
        {
            yield return $"TypedJobs:Scheduler:MissedRuns = '{MissedRuns}' is not valid: use RunOnce, Skip or RunAll.";
        }

        if (MaxCatchUpRuns < 1)
        {
            yield return $"TypedJobs:Scheduler:MaxCatchUpRuns = '{MaxCatchUpRuns}' must be at least 1.";
        }

        if (LateTolerance < TimeSpan.Zero)
        {
            yield return $"TypedJobs:Scheduler:LateTolerance = '{LateTolerance}' must not be negative.";
        }
    }
}
