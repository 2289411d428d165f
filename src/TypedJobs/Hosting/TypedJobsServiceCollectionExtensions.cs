using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TypedJobs;
using TypedJobs.Client;
using TypedJobs.Diagnostics;
using TypedJobs.Engine;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TypedJobs in a service collection.</summary>
public static class TypedJobsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the TypedJobs client (<see cref="IJobClient"/>, <see cref="IJobAdmin"/>) and storage. Call
    /// <see cref="TypedJobsBuilder.AddWorker(Action{WorkerOptions}?)"/> on the result to run jobs in this process.
    /// Tasks declared with <c>[Task]</c> in this assembly and its references are registered by generated code.
    /// </summary>
    public static TypedJobsBuilder AddTypedJobs(this IServiceCollection services, Action<TypedJobsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(TypedJobsBuilder))?.ImplementationInstance as TypedJobsBuilder;
        var builder = existing ?? new TypedJobsBuilder(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (existing is not null)
        {
            return builder;
        }

        services.AddSingleton(builder);
        services.AddOptions<TypedJobsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TypedJobsOptions>, TypedJobsOptionsValidator>());
        services.AddMetrics();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => sp.GetRequiredService<IOptions<TypedJobsOptions>>().Value);
        services.TryAddSingleton(static sp => new StorageSet(sp, sp.GetRequiredService<TypedJobsOptions>()));
        services.TryAddSingleton(static sp => sp.GetRequiredService<StorageSet>().Jobs);
        services.TryAddSingleton(static sp => sp.GetRequiredService<StorageSet>().Admin);
        services.TryAddSingleton(static sp => new TaskRegistry(sp.GetServices<JobTask>()));
        services.TryAddSingleton(static sp => new TypedJobs.Contracts.DeployedContracts(sp.GetServices<TypedJobs.Contracts.TaskContractInfo>(), sp.GetRequiredService<TaskRegistry>().Tasks));
        services.TryAddSingleton<TypedJobsMetrics>();
        services.TryAddSingleton<LocalJobs>();
        services.TryAddSingleton<JobEventHub>();
        services.TryAddSingleton<JobClient>();
        services.TryAddSingleton<IJobClient>(static sp => sp.GetRequiredService<JobClient>());
        services.TryAddSingleton<IJobAdmin>(static sp => sp.GetRequiredService<JobClient>());
        services.TryAddSingleton(TypedJobs.Scheduling.ScheduleAdmin.Create);
        services.TryAddSingleton<IScheduleAdmin>(static sp => sp.GetRequiredService<TypedJobs.Scheduling.ScheduleAdmin>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StorageInitializer>());
        foreach (var registration in TaskRegistrations.All)
        {
            registration(builder);
        }

        return builder;
    }
}

/// <summary>Returned by <c>AddTypedJobs</c>: adds workers, tasks and observers.</summary>
public sealed class TypedJobsBuilder
{
    internal TypedJobsBuilder(IServiceCollection services)
    {
        Services = services;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Runs a worker in this process (a hosted service). Call again to add another worker with other queues or limits.
    /// The first call also runs the process's maintenance loop (rescue of expired leases, pruning), the startup check of
    /// stored jobs against the deployed task contracts (<see cref="TypedJobsOptions.CheckStoredJobsAtStartup"/>), and the scheduler (see <see cref="TypedJobsSchedulerBuilderExtensions.AddScheduler"/>) unless
    /// <see cref="SchedulerOptions.Enabled"/> is <see langword="false"/>.
    /// </summary>
    public TypedJobsBuilder AddWorker(Action<WorkerOptions>? configure = null)
    {
        var worker = new WorkerOptions();
        configure?.Invoke(worker);
        Services.AddSingleton<IHostedService>(sp => new JobWorker(
            sp.GetRequiredService<StorageSet>(),
            sp.GetRequiredService<TaskRegistry>(),
            sp.GetRequiredService<TypedJobsOptions>(),
            worker,
            sp.GetRequiredService<JobEventHub>(),
            sp.GetRequiredService<LocalJobs>(),
            sp.GetRequiredService<TypedJobsMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<ILogger<JobWorker>>(),
            sp.GetRequiredService<TypedJobs.Contracts.DeployedContracts>().Hash,
            sp.GetRequiredService<TypedJobs.Contracts.DeployedContracts>()));
        // One maintenance loop (rescue, pruning) per process, however many workers: it reads every worker's settings.
        Services.AddSingleton(worker);
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MaintenanceService>());
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TypedJobs.Contracts.ContractCheckService>());
        this.AddScheduler();
        return this;
    }

    /// <summary>Registers a task built with <see cref="JobTask.Create{TPayload}"/> (the low-level API the generator uses).</summary>
    /// <exception cref="ArgumentException"><paramref name="task"/> is a contract without a handler (<see cref="JobTask.CreateContract{TPayload}"/>).</exception>
    public TypedJobsBuilder AddTask(JobTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!task.HasHandler)
        {
            throw new ArgumentException($"Task '{task.Name}' is a contract without a handler; register the task that implements it instead.", nameof(task));
        }

        Services.AddSingleton(task);
        return this;
    }

    /// <summary>Adds an in-process observer of lifecycle events.</summary>
    public TypedJobsBuilder AddObserver<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] TObserver>()
        where TObserver : class, IJobEventObserver
    {
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobEventObserver, TObserver>());
        return this;
    }

    /// <summary>Adds an in-process observer instance of lifecycle events.</summary>
    public TypedJobsBuilder AddObserver(IJobEventObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        Services.AddSingleton(observer);
        return this;
    }
}

/// <summary>
/// Task registries that generated code hands to the runtime. Each assembly with <c>[Task]</c> methods registers its
/// own; the host's generated code lists every registry it references, so no scanning is needed.
/// </summary>
public static class TaskRegistrations
{
    private static readonly List<Action<TypedJobsBuilder>> Registrations = [];
    private static readonly HashSet<object> Keys = [];

    internal static IReadOnlyList<Action<TypedJobsBuilder>> All
    {
        get
        {
            lock (Registrations)
            {
                return Registrations.ToArray();
            }
        }
    }

    /// <summary>Adds a registry under a key (the registry's type); a key added twice counts once.</summary>
    public static void Add(object key, Action<TypedJobsBuilder> register)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(register);
        lock (Registrations)
        {
            if (Keys.Add(key))
            {
                Registrations.Add(register);
            }
        }
    }
}

internal sealed class TypedJobsOptionsValidator(IServiceProvider services) : IValidateOptions<TypedJobsOptions>
{
    public ValidateOptionsResult Validate(string? name, TypedJobsOptions options)
    {
        var failures = new List<string>(StoragePlan.Build(options, services).Errors);

        if (!QueueNames.IsValid(options.DefaultQueue))
        {
            failures.Add($"TypedJobs:DefaultQueue = '{options.DefaultQueue}' is not a valid queue name: use 1-100 characters of letters, digits, '-', '_', '.' or ':'.");
        }

        if (options.DefaultMaxRetries < 0)
        {
            failures.Add($"TypedJobs:DefaultMaxRetries = '{options.DefaultMaxRetries}' must be 0 or more.");
        }

        if (options.DefaultRetryDelay < TimeSpan.Zero || options.DefaultMaxRetryDelay < options.DefaultRetryDelay)
        {
            failures.Add($"TypedJobs:DefaultRetryDelay = '{options.DefaultRetryDelay}' and TypedJobs:DefaultMaxRetryDelay = '{options.DefaultMaxRetryDelay}' must satisfy 0 <= DefaultRetryDelay <= DefaultMaxRetryDelay.");
        }

        if (options.MaxPayloadBytes < 16)
        {
            failures.Add($"TypedJobs:MaxPayloadBytes = '{options.MaxPayloadBytes}' must be at least 16.");
        }

        if (options.ResultRetention <= TimeSpan.Zero)
        {
            failures.Add($"TypedJobs:ResultRetention = '{options.ResultRetention}' must be positive.");
        }

        foreach (var (key, retention) in (ReadOnlySpan<(string, TimeSpan)>)[("SucceededRetention", options.SucceededRetention), ("DeadRetention", options.DeadRetention)])
        {
            // A store subtracts the age from its clock; beyond a century no clock can (0 is how to keep jobs forever).
            if (retention < TimeSpan.Zero || retention > StorageRules.MaxDelay)
            {
                failures.Add($"TypedJobs:{key} = '{retention}' must be between 0 and {StorageRules.MaxDelay.Days} days (0 keeps jobs forever).");
            }
        }

        if (options.UnknownTaskGracePeriod < TimeSpan.Zero)
        {
            failures.Add($"TypedJobs:UnknownTaskGracePeriod = '{options.UnknownTaskGracePeriod}' must not be negative.");
        }

        if (options.UnknownTaskRetryDelay <= TimeSpan.Zero)
        {
            failures.Add($"TypedJobs:UnknownTaskRetryDelay = '{options.UnknownTaskRetryDelay}' must be positive.");
        }

        if (options.EventBufferSize < 1)
        {
            failures.Add($"TypedJobs:EventBufferSize = '{options.EventBufferSize}' must be at least 1.");
        }

        if (options.ResultPollInterval <= TimeSpan.Zero)
        {
            failures.Add($"TypedJobs:ResultPollInterval = '{options.ResultPollInterval}' must be positive.");
        }

        failures.AddRange(options.Scheduler.Validate());
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
