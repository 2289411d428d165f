using Microsoft.Extensions.Diagnostics.HealthChecks;
using TypedJobs;
using TypedJobs.AspNetCore;
using TypedJobs.AspNetCore.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the TypedJobs health checks.</summary>
public static class TypedJobsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds TypedJobs health checks, each tagged <c>typedjobs</c>: <c>typedjobs-storage</c> (the jobs storage answers; its
    /// latency is in the data; slower than <see cref="TypedJobsHealthCheckOptions.StorageLatencyThreshold"/> is degraded),
    /// <c>typedjobs-workers</c> (at least <see cref="TypedJobsHealthCheckOptions.MinimumWorkers"/> workers heartbeat), and,
    /// when their thresholds are set, <c>typedjobs-backlog</c> (ready jobs) and <c>typedjobs-dead</c> (dead jobs).
    /// </summary>
    public static IHealthChecksBuilder AddTypedJobs(this IHealthChecksBuilder builder, Action<TypedJobsHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new TypedJobsHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();
        string[] tags = ["typedjobs", .. options.Tags];

        void Add(string name, TypedJobsCheck check, HealthStatus failure) =>
            builder.Add(new HealthCheckRegistration(name,
                sp => new TypedJobsHealthCheck(sp.GetRequiredService<IJobAdmin>(), options, check, sp.GetService<TimeProvider>() ?? TimeProvider.System),
                failure, tags, options.Timeout));

        Add("typedjobs-storage", TypedJobsCheck.Storage, HealthStatus.Unhealthy);
        if (options.MinimumWorkers > 0)
        {
            Add("typedjobs-workers", TypedJobsCheck.Workers, options.FailureStatus ?? HealthStatus.Unhealthy);
        }

        if (options.BacklogThreshold is not null)
        {
            Add("typedjobs-backlog", TypedJobsCheck.Backlog, options.FailureStatus ?? HealthStatus.Degraded);
        }

        if (options.DeadJobsThreshold is not null)
        {
            Add("typedjobs-dead", TypedJobsCheck.DeadJobs, options.FailureStatus ?? HealthStatus.Degraded);
        }

        return builder;
    }
}
