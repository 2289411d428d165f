using TypedJobs.Storage;

namespace TypedJobs.Hosting;

/// <summary>The backend instance chosen for each role; one instance per registration, shared by its roles.</summary>
internal sealed class StorageSet
{
    private readonly object[] distinct;
    private Task? initialized;

    public StorageSet(IServiceProvider services, TypedJobsOptions options)
    {
        var instances = new Dictionary<TypedJobsOptions.StorageRegistration, object>();
        object? Resolve(StorageRoles role)
        {
            var registration = options.StorageRegistrations.LastOrDefault(r => (r.Roles & role) != 0);
            if (registration is null)
            {
                return null;
            }

            if (!instances.TryGetValue(registration, out var instance))
            {
                instance = registration.Factory(services);
                instances.Add(registration, instance);
            }

            return instance;
        }

        Jobs = Cast<IJobStore>(Resolve(StorageRoles.Jobs), StorageRoles.Jobs)
               ?? throw new InvalidOperationException("TypedJobs has no storage: call UseInMemory(), UseSqlite(...) or another UseXxx in AddTypedJobs(o => ...), or set TypedJobs:Storage in configuration.");
        Results = Cast<IResultStore>(Resolve(StorageRoles.Results), StorageRoles.Results) ?? new NoResultStore();
        Events = Cast<IEventStore>(Resolve(StorageRoles.Events), StorageRoles.Events);
        Schedules = Cast<IScheduleStore>(Resolve(StorageRoles.Schedules), StorageRoles.Schedules);
        distinct = [.. instances.Values];
    }

    public IJobStore Jobs { get; }

    public IResultStore Results { get; }

    public IEventStore? Events { get; }

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

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await Jobs.InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (!ReferenceEquals(Results, Jobs))
        {
            await Results.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        if (Events is not null && !ReferenceEquals(Events, Jobs) && !ReferenceEquals(Events, Results))
        {
            await Events.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        if (Schedules is not null && !ReferenceEquals(Schedules, Jobs) && !ReferenceEquals(Schedules, Results) && !ReferenceEquals(Schedules, Events))
        {
            await Schedules.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static T? Cast<T>(object? instance, StorageRoles role)
        where T : class
    {
        if (instance is null)
        {
            return null;
        }

        return instance as T ?? throw new InvalidOperationException(
            $"The storage backend {instance.GetType().Name} was assigned the {role} role but does not implement {typeof(T).Name}.");
    }

    private sealed class NoResultStore : IResultStore
    {
        public ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask ResultsSetAsync(IReadOnlyList<ResultWrite> results, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("No storage is assigned to the Results role.");

        public ValueTask<StoredResult?> ResultsGetAsync(JobId id, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("No storage is assigned to the Results role.");

        public ValueTask<int> ResultsPruneAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0);
    }
}

