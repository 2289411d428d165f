using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using TypedJobs;
using TypedJobs.Scheduling;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the scheduler to a TypedJobs registration.</summary>
public static class TypedJobsSchedulerBuilderExtensions
{
    /// <summary>
    /// Runs a scheduler in this process (a hosted service; added once however often this is called). <c>AddWorker()</c>
    /// calls this already; call it without <c>AddWorker()</c> to run a scheduler that only enqueues. Set
    /// <see cref="SchedulerOptions.Enabled"/> to <see langword="false"/> to run no scheduler in this process.
    /// </summary>
    public static TypedJobsBuilder AddScheduler(this TypedJobsBuilder builder, Action<SchedulerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SchedulerService>());
        if (configure is not null)
        {
            builder.Services.Configure<TypedJobsOptions>(o => configure(o.Scheduler));
        }

        return builder;
    }
}
