using Microsoft.Extensions.Configuration;
using TypedJobs;
using TypedJobs.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Binds TypedJobs settings from configuration (appsettings.json, environment variables <c>TypedJobs__…</c>) with the
/// configuration-binding source generator, so it works under Native AOT.
/// </summary>
public static class TypedJobsConfigurationExtensions
{
    /// <summary>
    /// Adds TypedJobs with the host-wide settings bound from <paramref name="configuration"/> (the <c>TypedJobs</c> section,
    /// e.g. <c>DefaultQueue</c>, <c>DefaultMaxRetries</c>, <c>MaxPayloadBytes</c>, <c>Scheduler:MissedRuns</c>) and the
    /// storage of each role from <c>Storage</c>: one URL for every role (<c>"Storage": "sqlite:jobs.db"</c>) or one per
    /// role (<c>Storage:Jobs</c>, <c>Storage:Results</c>, <c>Storage:Events</c>, <c>Storage:Schedules</c>; a role not
    /// given uses the jobs role's backend). Then <paramref name="configure"/> runs: code wins over configuration. With
    /// no storage anywhere and the SQLite package referenced, jobs go to <c>typedjobs.db</c> under the content root. A
    /// value that does not convert, an unknown scheme or a bad storage setting stops startup with a message naming its
    /// key, the bad value (without secrets) and the valid choices.
    /// </summary>
    public static TypedJobsBuilder AddTypedJobs(this IServiceCollection services, IConfiguration configuration,
        Action<TypedJobsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddTypedJobs(o =>
        {
            configuration.Bind(o);
            StorageConfiguration.Read(configuration, o);
            configure?.Invoke(o);
        });
    }

    /// <summary>
    /// Runs a worker whose settings are bound from <paramref name="configuration"/> (e.g. the <c>TypedJobs:Worker</c>
    /// section: <c>Queues</c>, <c>Concurrency</c>, <c>QueueConcurrency:&lt;queue&gt;</c>, <c>LeaseDuration</c>, …), then
    /// <paramref name="configure"/>. A list given in configuration replaces the default (it is not appended to).
    /// </summary>
    public static TypedJobsBuilder AddWorker(this TypedJobsBuilder builder, IConfiguration configuration, Action<WorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var bound = configuration.Get<WorkerSettings>() ?? new WorkerSettings();
        return builder.AddWorker(w =>
        {
            bound.ApplyTo(w);
            configure?.Invoke(w);
        });
    }

    /// <summary>The configuration shape of <see cref="WorkerOptions"/>; unset values keep the defaults.</summary>
    internal sealed class WorkerSettings
    {
        public string[]? Queues { get; set; }

        public int? Concurrency { get; set; }

        public Dictionary<string, int>? QueueConcurrency { get; set; }

        public TimeSpan? PollInterval { get; set; }

        public TimeSpan? LeaseDuration { get; set; }

        public TimeSpan? HeartbeatInterval { get; set; }

        public TimeSpan? ShutdownTimeout { get; set; }

        public TimeSpan? AbandonGrace { get; set; }

        public TimeSpan? RescueInterval { get; set; }

        public TimeSpan? MaintenanceInterval { get; set; }

        public int? CompletionBatchSize { get; set; }

        public TimeSpan? PrefetchWindow { get; set; }

        public string? WorkerId { get; set; }

        public void ApplyTo(WorkerOptions w)
        {
            if (Queues is { Length: > 0 })
            {
                w.Queues = Queues;
            }

            w.Concurrency = Concurrency ?? w.Concurrency;
            foreach (var (queue, limit) in QueueConcurrency ?? [])
            {
                w.QueueConcurrency[queue] = limit;
            }

            w.PollInterval = PollInterval ?? w.PollInterval;
            w.LeaseDuration = LeaseDuration ?? w.LeaseDuration;
            w.HeartbeatInterval = HeartbeatInterval ?? w.HeartbeatInterval;
            w.ShutdownTimeout = ShutdownTimeout ?? w.ShutdownTimeout;
            w.AbandonGrace = AbandonGrace ?? w.AbandonGrace;
            w.RescueInterval = RescueInterval ?? w.RescueInterval;
            w.MaintenanceInterval = MaintenanceInterval ?? w.MaintenanceInterval;
            w.CompletionBatchSize = CompletionBatchSize ?? w.CompletionBatchSize;
            w.PrefetchWindow = PrefetchWindow ?? w.PrefetchWindow;
            w.WorkerId = WorkerId ?? w.WorkerId;
        }
    }
}
