using TypedJobs.Storage;
using TypedJobs.Storage.Memory;

namespace TypedJobs;

/// <summary>The storage roles a backend can be assigned to.</summary>
[Flags]
public enum StorageRoles
{
    /// <summary>No role.</summary>
    None = 0,

    /// <summary>The queue and job lifecycle (<see cref="IJobStore"/>, <see cref="IJobAdminStore"/>, <see cref="ILockStore"/>).</summary>
    Jobs = 1,

    /// <summary>Job results (<see cref="IResultStore"/>).</summary>
    Results = 2,

    /// <summary>Lifecycle event history (<see cref="IEventStore"/>).</summary>
    Events = 4,

    /// <summary>Recurring schedules (<see cref="IScheduleStore"/>).</summary>
    Schedules = 8,

    /// <summary>Every role.</summary>
    All = Jobs | Results | Events | Schedules,
}

/// <summary>Host-wide TypedJobs settings, configured in <c>AddTypedJobs(o =&gt; …)</c> and validated at startup.</summary>
public sealed class TypedJobsOptions
{
    // Fields, not properties: configuration binding must not see them.
    internal readonly List<StorageRegistration> StorageRegistrations = [];
    internal readonly List<StorageProvider> ExtraProviders = [];
    internal readonly Dictionary<StorageRoles, StorageSetting> ConfiguredStorage = [];
    internal readonly List<string> ConfigurationErrors = [];

    /// <summary>The queue of tasks that declare none. Default <c>"default"</c>.</summary>
    public string DefaultQueue { get; set; } = "default";

    /// <summary>Retries of tasks that declare none. Default 10.</summary>
    public int DefaultMaxRetries { get; set; } = 10;

    /// <summary>The base of the exponential retry backoff of tasks that declare none. Default 2 seconds.</summary>
    public TimeSpan DefaultRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The cap of the retry backoff of tasks that declare none. Default 1 hour.</summary>
    public TimeSpan DefaultMaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The largest serialized payload accepted at enqueue. Default 1 MiB.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>How long results are kept for tasks that declare none. Default 1 day.</summary>
    public TimeSpan ResultRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Succeeded and cancelled jobs older than this are pruned by workers. Default 1 day; <see cref="TimeSpan.Zero"/> keeps them; at most 36,525 days.</summary>
    public TimeSpan SucceededRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Dead jobs older than this are pruned by workers. Default 7 days; <see cref="TimeSpan.Zero"/> keeps them; at most 36,525 days.</summary>
    public TimeSpan DeadRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Whether lifecycle events are written to the events storage role. Default <see langword="false"/> (observers are always called).</summary>
    public bool RecordEvents { get; set; }

    /// <summary>
    /// How long a job whose task no worker that claimed it knows may wait for one that does (during a rolling deploy,
    /// producers can know a task before every worker does). Until then such a job is handed back without using an
    /// attempt; after it, the job is dead-lettered with a message naming the task. Default 1 hour.
    /// </summary>
    public TimeSpan UnknownTaskGracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a job of a task this worker does not know waits before it is offered again. Default 15 seconds.</summary>
    public TimeSpan UnknownTaskRetryDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Whether a process that runs workers checks the waiting jobs of the store against the deployed task contracts when
    /// it starts, and logs one line: a warning naming the tasks of waiting jobs that no deployed contract knows (they would
    /// be dead-lettered after <see cref="UnknownTaskGracePeriod"/>), else an information line with the contract hash. See
    /// <see cref="Contracts.StoredJobsCheck"/>. Default <see langword="true"/>.
    /// </summary>
    public bool CheckStoredJobsAtStartup { get; set; } = true;

    /// <summary>
    /// The most lifecycle events waiting for observers and the events store. When they fall this far behind, newer
    /// events are dropped (counted in <c>typedjobs.events.dropped</c> and logged) so memory stays bounded. Default 10,000.
    /// </summary>
    public int EventBufferSize { get; set; } = 10_000;

    /// <summary>How often a caller waiting for a result re-reads the store when no in-process signal arrives. Default 1 second.</summary>
    public TimeSpan ResultPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Set by the testing kit: workers, the scheduler and maintenance start (schedules declared in code are stored) but
    /// run no loops; the kit runs due jobs and schedule passes in the test's own flow, on its fake clock.
    /// </summary>
    internal bool ManualExecution { get; set; }

    /// <summary>Settings of the scheduler that <c>AddWorker()</c> and <c>AddScheduler()</c> run (section <c>TypedJobs:Scheduler</c>).</summary>
    public SchedulerOptions Scheduler { get; } = new();

    /// <summary>Uses the in-memory backend for every role (single process, nothing persists).</summary>
    public TypedJobsOptions UseInMemory() => UseInMemory(StorageRoles.All);

    /// <summary>Uses the in-memory backend for the given roles only.</summary>
    public TypedJobsOptions UseInMemory(StorageRoles roles) =>
        UseStorage(static sp => new MemoryStorage(sp.GetService(typeof(TimeProvider)) as TimeProvider), roles);

    /// <summary>
    /// Uses a backend created by <paramref name="factory"/> for <paramref name="roles"/> (all by default). The object must
    /// implement the interface of every role it is given. A later call overrides an earlier one for the roles it names,
    /// and code always wins over the <c>TypedJobs:Storage</c> configuration. Storage packages call this from their own
    /// <c>UseXxx</c> extensions. The factory's owner disposes what it creates (the host disposes only backends it
    /// opened from storage URLs).
    /// </summary>
    public TypedJobsOptions UseStorage(Func<IServiceProvider, object> factory, StorageRoles roles = StorageRoles.All)
    {
        ArgumentNullException.ThrowIfNull(factory);
        StorageRegistrations.Add(new StorageRegistration(roles, factory, null));
        return this;
    }

    /// <summary>
    /// Uses the backend a storage URL names (<c>memory:</c>, <c>sqlite:jobs.db</c>, <c>postgres://…</c>, …) for
    /// <paramref name="roles"/>, through the provider of its scheme, exactly as if it were configured in
    /// <c>TypedJobs:Storage</c>. Code wins over configuration.
    /// </summary>
    /// <exception cref="FormatException">The text is not a storage URL.</exception>
    public TypedJobsOptions UseStorage(string url, StorageRoles roles = StorageRoles.All)
    {
        ArgumentNullException.ThrowIfNull(url);
        StorageRegistrations.Add(new StorageRegistration(roles, null, StorageUrl.Parse(url)));
        return this;
    }

    /// <summary>
    /// Adds a storage provider by hand. Hosts built with the TypedJobs source generator find the providers of the
    /// storage packages they reference on their own; this is for hosts without it.
    /// </summary>
    public TypedJobsOptions AddStorageProvider(StorageProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ExtraProviders.Add(provider);
        return this;
    }

    internal sealed record StorageRegistration(StorageRoles Roles, Func<IServiceProvider, object>? Factory, StorageUrl? Url);

    internal sealed record StorageSetting(StorageUrl? Url, string Key, string Value);
}
