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
        if (StorageLatencyThreshold <= TimeSpan.Zero || WorkerHeartbeatTimeout <= TimeSpan.Zero || Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("TypedJobs health checks: StorageLatencyThreshold, WorkerHeartbeatTimeout and Timeout must be positive.");
        }

        if (MinimumWorkers < 0 || BacklogThreshold < 0 || DeadJobsThreshold < 0)
        {
            throw new ArgumentException("TypedJobs health checks: MinimumWorkers, BacklogThreshold and DeadJobsThreshold must not be negative.");
        }
    }
}
