using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Diagnostics;
using TypedJobs.Storage;

namespace TypedJobs.Hosting;

/// <summary>
/// Where each storage role lives, decided from code registrations (which win), the <c>TypedJobs:Storage</c>
/// configuration, the fallback of every role to the jobs role, and the default provider. Computed without opening
/// anything, so startup validation can report every problem at once.
/// </summary>
internal sealed class StoragePlan
{
    private static readonly StorageRoles[] Roles = [StorageRoles.Jobs, StorageRoles.Results, StorageRoles.Events, StorageRoles.Schedules];

    private StoragePlan(Dictionary<StorageRoles, Placement> placements, List<string> errors)
    {
        Placements = placements;
        Errors = errors;
    }

    /// <summary>The placement of each role that has one (a role missing here falls back to the jobs role's backend).</summary>
    public IReadOnlyDictionary<StorageRoles, Placement> Placements { get; }

    public IReadOnlyList<string> Errors { get; }

    public static StoragePlan Build(TypedJobsOptions options, IServiceProvider services)
    {
        var providers = options.ExtraProviders.Concat(StorageProviders.Create()).ToList();
        var errors = new List<string>(options.ConfigurationErrors);
        var placements = new Dictionary<StorageRoles, Placement>();
        var contentRoot = services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var loggers = services.GetService<ILoggerFactory>();
        foreach (var role in Roles)
        {
            var registration = options.StorageRegistrations.LastOrDefault(r => (r.Roles & role) != 0);
            if (registration?.Factory is { } factory)
            {
                placements[role] = new Placement(registration, factory, null, null, "code", false);
                continue;
            }

            StorageUrl? url;
            string key;
            var isDefault = false;
            if (registration?.Url is { } codeUrl)
            {
                (url, key) = (codeUrl, "UseStorage(url)");
            }
            else if (options.ConfiguredStorage.TryGetValue(role, out var configured))
            {
                if (configured.Url is null)
                {
                    StorageUrl.TryParse(configured.Value, out var why);
                    errors.Add($"Invalid storage {configured.Key} = '{StorageUrl.RedactText(configured.Value)}': {why}.");
                    continue;
                }

                (url, key) = (configured.Url, configured.Key);
            }
            else if (role == StorageRoles.Jobs)
            {
                var fallback = providers.FirstOrDefault(p => p.DefaultUrl is not null);
                if (fallback is null)
                {
                    errors.Add("TypedJobs has no storage: set TypedJobs:Storage to a URL (for example 'memory:', or 'sqlite:jobs.db' with the "
                               + "package TypedJobs.Storage.Sqlite), or call UseInMemory(), UseSqlite(...) or UseStorage(url) in AddTypedJobs(o => ...).");
                    continue;
                }

                (url, key, isDefault) = (StorageUrl.Parse(fallback.DefaultUrl!), "TypedJobs:Storage", true);
            }
            else
            {
                continue;
            }

            StorageProvider provider;
            try
            {
                provider = StorageProviders.Find(providers, url, role, key);
            }
            catch (StorageConfigurationException ex)
            {
                errors.Add(ex.Message);
                continue;
            }

            try
            {
                provider.Validate(url, new StorageProviderContext(services, role, key, contentRoot, time, loggers));
            }
            catch (StorageConfigurationException ex)
            {
                errors.Add(ex.Message);
                continue;
            }

            placements[role] = new Placement(provider.Schemes[0] + "|" + url.Original, null, url, provider, key, isDefault);
        }

        return new StoragePlan(placements, errors);
    }

    /// <summary>One backend placement: a code factory, or a URL opened by its provider.</summary>
    internal sealed record Placement(object Key, Func<IServiceProvider, object>? Factory, StorageUrl? Url, StorageProvider? Provider,
        string ConfigurationKey, bool IsDefault);
}

/// <summary>The backend instance chosen for each role; roles placed on the same backend share one instance.</summary>
internal sealed class StorageSet : IAsyncDisposable
{
    private readonly object[] distinct;
    private readonly List<object> owned = [];
    private Task? initialized;

    public StorageSet(IServiceProvider services, TypedJobsOptions options)
    {
        var plan = StoragePlan.Build(options, services);
        if (plan.Errors.Count > 0)
        {
            throw new StorageConfigurationException(string.Join(Environment.NewLine, plan.Errors));
        }

        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("TypedJobs.Storage");
        var contentRoot = services.GetService<IHostEnvironment>()?.ContentRootPath ?? Directory.GetCurrentDirectory();
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var instances = new Dictionary<object, object>();
        object? Open(StorageRoles role)
        {
            if (!plan.Placements.TryGetValue(role, out var placement))
            {
                return null;
            }

            if (!instances.TryGetValue(placement.Key, out var instance))
            {
                if (placement.Factory is not null)
                {
                    instance = placement.Factory(services);
                }
                else
                {
                    var roles = plan.Placements.Where(p => Equals(p.Value.Key, placement.Key)).Aggregate(StorageRoles.None, (a, p) => a | p.Key);
                    var context = new StorageProviderContext(services, roles, placement.ConfigurationKey, contentRoot, time,
                        services.GetService<ILoggerFactory>());
                    instance = placement.Provider!.Create(placement.Url!, context);
                    owned.Add(instance);
                    if (placement.IsDefault && logger is not null)
                    {
                        Log.DefaultStorage(logger, placement.Url!.Redacted, contentRoot);
                    }
                }

                instances.Add(placement.Key, instance);
            }

            return instance;
        }

        var jobs = Open(StorageRoles.Jobs) ?? throw new StorageConfigurationException("TypedJobs has no storage for the Jobs role.");
        Jobs = Cast<IJobStore>(jobs, StorageRoles.Jobs)!;
        Admin = Cast<IJobAdminStore>(jobs, StorageRoles.Jobs)!;
        Locks = Cast<ILockStore>(jobs, StorageRoles.Jobs)!;
        Results = Cast<IResultStore>(Open(StorageRoles.Results), StorageRoles.Results) ?? jobs as IResultStore;
        Events = Cast<IEventStore>(Open(StorageRoles.Events), StorageRoles.Events) ?? jobs as IEventStore;
        Schedules = Cast<IScheduleStore>(Open(StorageRoles.Schedules), StorageRoles.Schedules) ?? jobs as IScheduleStore;
        ResultsWithJobs = ReferenceEquals(Results, jobs);
        distinct = new object?[] { jobs, Results, Events, Schedules }.OfType<object>().Distinct(ReferenceEqualityComparer.Instance).ToArray();
        if (logger is not null)
        {
            foreach (var (role, placement) in plan.Placements.OrderBy(p => p.Key))
            {
                Log.StoragePlaced(logger, role, placement.Url?.Redacted ?? "a backend registered in code", placement.ConfigurationKey);
            }
        }
    }

    /// <summary>The jobs role, hot path.</summary>
    public IJobStore Jobs { get; }

    /// <summary>The jobs role, administration.</summary>
    public IJobAdminStore Admin { get; }

    /// <summary>The jobs role, locks.</summary>
    public ILockStore Locks { get; }

    /// <summary>The results role, if any backend holds it.</summary>
    public IResultStore? Results { get; }

    /// <summary>Whether the jobs backend also holds results (results are then written atomically with completions).</summary>
    public bool ResultsWithJobs { get; }

    /// <summary>The events role, if any backend holds it.</summary>
    public IEventStore? Events { get; }

    /// <summary>The schedules role, if any backend holds it.</summary>
    public IScheduleStore? Schedules { get; }

    public Task EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        var task = Volatile.Read(ref initialized);
        if (task is { IsCompletedSuccessfully: true })
        {
            return task;
        }

        lock (distinct)
        {
            if (initialized is null || initialized.IsFaulted || initialized.IsCanceled)
            {
                initialized = InitializeAsync(cancellationToken);
            }

            return initialized;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in owned)
        {
            switch (instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        foreach (var instance in distinct)
        {
            await ((IStorageRole)instance).InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static T? Cast<T>(object? instance, StorageRoles role)
        where T : class
    {
        if (instance is null)
        {
            return null;
        }

        return instance as T ?? throw new StorageConfigurationException(
            $"The storage backend {instance.GetType().Name} was given the {role} role but does not implement {typeof(T).Name}.");
    }
}
