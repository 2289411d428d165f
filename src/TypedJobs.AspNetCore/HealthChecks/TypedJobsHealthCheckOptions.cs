using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TypedJobs.AspNetCore;

/// <summary>Settings of the TypedJobs health checks added by <c>AddHealthChecks().AddTypedJobs()</c>.</summary>
public sealed class TypedJobsHealthCheckOptions
{
    /// <summary>A storage round trip slower than this reports <see cref="HealthStatus.Degraded"/>. Default 1 second.</summary>
    public TimeSpan StorageLatencyThreshold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The fewest workers that must be heartbeating (in any process sharing the store) for the workers check to pass.
    /// Default 1; 0 leaves the check out (a web front end whose workers are watched elsewhere).
    /// </summary>
    public int MinimumWorkers { get; set; } = 1;

    /// <summary>A worker whose last heartbeat (by the store's clock) is older than this does not count. Default 1 minute.</summary>
    public TimeSpan WorkerHeartbeatTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>When set, more ready jobs than this (waiting for a worker, all queues) fail the backlog check. Default none.</summary>
    public long? BacklogThreshold { get; set; }

    /// <summary>When set, more dead jobs than this fail the dead-jobs check. Default none.</summary>
    public long? DeadJobsThreshold { get; set; }

    /// <summary>The status the workers, backlog and dead-jobs checks report when they fail. Default <see cref="HealthStatus.Unhealthy"/> for workers, <see cref="HealthStatus.Degraded"/> for the thresholds.</summary>
    public HealthStatus? FailureStatus { get; set; }

    /// <summary>Tags added to every TypedJobs check (they always have <c>typedjobs</c>), e.g. <c>ready</c> or <c>live</c> for your endpoints' filters.</summary>
    public IList<string> Tags { get; } = [];

    /// <summary>How long one check may take before it is reported as failed. Default 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        Positive(StorageLatencyThreshold, nameof(StorageLatencyThreshold));
        Positive(WorkerHeartbeatTimeout, nameof(WorkerHeartbeatTimeout));
        Positive(Timeout, nameof(Timeout));
        NotNegative(MinimumWorkers, nameof(MinimumWorkers), "0 leaves the workers check out");
        NotNegative(BacklogThreshold, nameof(BacklogThreshold), "null leaves the backlog check out");
        NotNegative(DeadJobsThreshold, nameof(DeadJobsThreshold), "null leaves the dead-jobs check out");
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"TypedJobs health checks: {name} = {value} must be a positive time span, e.g. 00:00:05.", name);
        }
    }

    private static void NotNegative(long? value, string name, string hint)
    {
        if (value < 0)
        {
            throw new ArgumentException($"TypedJobs health checks: {name} = {value} must be 0 or more ({hint}).", name);
        }
    }
}
