using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using TypedJobs;
using TypedJobs.Storage.Memory;
using TypedJobs.Testing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Sets up TypedJobs in an application's services for tests.</summary>
public static class TypedJobsTestingServiceCollectionExtensions
{
    /// <summary>
    /// Prepares the application's TypedJobs for a test and registers a <see cref="JobTestKit"/>: the clock becomes a
    /// <see cref="FakeTimeProvider"/> (registered as <see cref="TimeProvider"/> and as itself) that moves only when the
    /// test moves it; every storage role goes to a fresh in-memory store (unless <see cref="JobTestOptions.KeepStorage"/>);
    /// workers, the scheduler and maintenance start but run nothing on their own — the test runs jobs with the kit. Call
    /// it after the application's own registrations (for example in <c>ConfigureTestServices</c> of a
    /// <c>WebApplicationFactory</c>), then get the kit with <see cref="GetJobTestKit"/>.
    /// </summary>
    public static IServiceCollection AddTypedJobsTesting(this IServiceCollection services, Action<JobTestOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new JobTestOptions();
        configure?.Invoke(options);
        var time = options.Time ?? new FakeTimeProvider(options.StartTime);
        services.RemoveAll<TimeProvider>();
        services.AddSingleton<TimeProvider>(time);
        services.RemoveAll<FakeTimeProvider>();
        services.AddSingleton(time);
        services.AddTypedJobs();
        var memory = options.KeepStorage ? null : new MemoryStorage(time);
        services.PostConfigure<TypedJobsOptions>(o =>
        {
            o.ManualExecution = true;
            if (memory is not null)
            {
                o.UseStorage(_ => memory);
            }
        });
        services.RemoveAll<JobTestKit>();
        services.AddSingleton(sp => new JobTestKit(sp, time));
        return services;
    }

    /// <summary>The kit that <see cref="AddTypedJobsTesting"/> registered.</summary>
    /// <exception cref="InvalidOperationException"><see cref="AddTypedJobsTesting"/> was not called on these services.</exception>
    public static JobTestKit GetJobTestKit(this IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetService(typeof(JobTestKit)) as JobTestKit
               ?? throw new InvalidOperationException("No JobTestKit is registered: call services.AddTypedJobsTesting() when setting up the test host.");
    }
}
