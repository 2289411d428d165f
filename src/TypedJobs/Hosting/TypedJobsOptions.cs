using TypedJobs.Storage;
using TypedJobs.Storage.Memory;

namespace TypedJobs;

/// <summary>The storage roles a backend can be assigned to.</summary>
[Flags]
public enum StorageRoles
{
    /// <summary>No role.</summary>
    None = 0,

    /// <summary>The queue and job lifecycle (<see cref="IJobStore"/>).</summary>
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
    // A field, not a property: configuration binding must not see it.
    internal readonly List<StorageRegistration> StorageRegistrations = [];

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

    /// <summary>Succeeded and cancelled jobs older than this are pruned by workers. Default 1 day; <see cref="TimeSpan.Zero"/> keeps them.</summary>
    public TimeSpan SucceededRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Dead jobs older than this are pruned by workers. Default 7 days; <see cref="TimeSpan.Zero"/> keeps them.</summary>
    public TimeSpan DeadRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Whether lifecycle events are written to the events storage role. Default <see langword="false"/> (observers are always called).</summary>
    public bool RecordEvents { get; set; }

    /// <summary>How often a caller waiting for a result re-reads the store when no in-process signal arrives. Default 1 second.</summary>
    public TimeSpan ResultPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Settings of the scheduler that <c>AddWorker()</c> and <c>AddScheduler()</c> run (section <c>TypedJobs:Scheduler</c>).</summary>
    public SchedulerOptions Scheduler { get; } = new();

    /// <summary>Uses the in-memory backend for every role (single process, nothing persists).</summary>
    public TypedJobsOptions UseInMemory() => UseStorage(static sp => new MemoryStorage(sp.GetService(typeof(TimeProvider)) as TimeProvider));

    /// <summary>Uses the in-memory backend for the given roles only.</summary>
    public TypedJobsOptions UseInMemory(StorageRoles roles) =>
        UseStorage(static sp => new MemoryStorage(sp.GetService(typeof(TimeProvider)) as TimeProvider), roles);

    /// <summary>
    /// Uses a backend created by <paramref name="factory"/> for <paramref name="roles"/> (all by default). The object must
    /// implement the interface of every role it is given. A later call overrides an earlier one for the roles it names.
    /// Storage packages call this from their own <c>UseXxx</c> extensions.
    /// </summary>
    public TypedJobsOptions UseStorage(Func<IServiceProvider, object> factory, StorageRoles roles = StorageRoles.All)
    {
        ArgumentNullException.ThrowIfNull(factory);
        StorageRegistrations.Add(new StorageRegistration(roles, factory));
        return this;
    }

    internal sealed record StorageRegistration(StorageRoles Roles, Func<IServiceProvider, object> Factory);
}
