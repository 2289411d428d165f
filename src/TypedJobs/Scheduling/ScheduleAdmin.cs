using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Scheduling;

/// <summary>
/// Run-time schedule management over the schedules storage role, and the start-up upsert of schedules declared in
/// code. Precedence: the code owns the timing of a declared schedule until an operator changes that timing; the
/// operator always owns the paused state, the stored arguments and the run history.
/// </summary>
internal sealed class ScheduleAdmin : IScheduleAdmin
{
    private const int MaxNameLength = 200;

    private readonly StorageSet storage;
    private readonly TaskRegistry registry;
    private readonly IJobClient client;
    private readonly TypedJobsOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public ScheduleAdmin(StorageSet storage, TaskRegistry registry, IJobClient client, TypedJobsOptions options, TimeProvider time,
        ILogger<ScheduleAdmin> logger)
    {
        this.storage = storage;
        this.registry = registry;
        this.client = client;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>Set whenever a schedule changes in this process, so a local scheduler re-reads at once.</summary>
    public AsyncSignal Changed { get; } = new();

    public Occurrences Occurrences { get; } = new();

    /// <summary>Whether a backend is assigned to the schedules role.</summary>
    public bool HasStore => storage.Schedules is not null;

    public static ScheduleAdmin Create(IServiceProvider services) => new(
        services.GetRequiredService<StorageSet>(),
        services.GetRequiredService<TaskRegistry>(),
        services.GetRequiredService<IJobClient>(),
        services.GetRequiredService<TypedJobsOptions>(),
        services.GetRequiredService<TimeProvider>(),
        services.GetRequiredService<ILogger<ScheduleAdmin>>());

    public async ValueTask<ScheduleInfo> AddOrUpdateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ValidateName(definition.Name);
        var task = registry.TryGet(definition.TaskName, out var known) ? known : throw new UnknownTaskException(definition.TaskName);
        var kinds = (definition.Cron is null ? 0 : 1) + (definition.Interval is null ? 0 : 1) + (definition.RunAt is null ? 0 : 1);
        if (kinds != 1)
        {
            throw new ArgumentException($"Schedule '{definition.Name}': set exactly one of Cron, Interval and RunAt.", nameof(definition));
        }

        if (ValidateTiming(definition.Cron, definition.TimeZone, definition.Interval) is { } timingError)
        {
            throw new ArgumentException($"Schedule '{definition.Name}': {timingError}", nameof(definition));
        }

        if (definition.Payload is { } payload)
        {
            if (payload.Length > options.MaxPayloadBytes)
            {
                throw new PayloadTooLargeException(task.Name, payload.Length, options.MaxPayloadBytes);
            }

            try
            {
                task.DecodePayload(payload);
            }
            catch (InvalidPayloadException ex)
            {
                throw new ArgumentException($"Schedule '{definition.Name}': {ex.Message}", nameof(definition), ex);
            }
        }

        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var stored = await UpdateAsync(store, definition.Name, (existing, now) =>
        {
            var record = new ScheduleRecord
            {
                Name = definition.Name,
                TaskName = definition.TaskName,
                Cron = definition.Cron,
                TimeZone = definition.TimeZone,
                Interval = definition.Interval,
                Payload = definition.Payload,
                Paused = existing?.Paused ?? false,
                LastRunAt = existing?.LastRunAt,
            };
            var sameTiming = existing is not null && SameTiming(existing, record, definition.RunAt);
            return record with
            {
                NextRunAt = sameTiming ? existing!.NextRunAt : definition.RunAt ?? Occurrences.Next(record, Floor(existing, now)),
                Declared = sameTiming && existing!.Declared,
            };
        }, cancellationToken).ConfigureAwait(false);
        Changed.Set();
        return ToInfo(stored!);
    }

    public async ValueTask<ScheduleInfo?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var record = (await store.SchedulesGetAsync(new SchedulesGetParams(name), cancellationToken).ConfigureAwait(false)).Schedule;
        return record is null ? null : ToInfo(record);
    }

    public async ValueTask<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var records = (await store.SchedulesListAsync(new SchedulesListParams(), cancellationToken).ConfigureAwait(false)).Schedules;
        return records.Select(ToInfo).ToList();
    }

    public async ValueTask<bool> PauseAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var found = false;
        await UpdateAsync(store, name, (record, _) =>
        {
            found = record is not null;
            return record is { Paused: false } ? record with { Paused = true } : null;
        }, cancellationToken).ConfigureAwait(false);
        Changed.Set();
        return found;
    }

    public async ValueTask<bool> ResumeAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var found = false;
        await UpdateAsync(store, name, (record, now) =>
        {
            found = record is not null;
            if (record is not { Paused: true })
            {
                return null;
            }

            // Occurrences inside the pause are skipped; a one-time schedule that has not run keeps its time.
            var next = record.Cron is null && record.Interval is null ? record.NextRunAt : Occurrences.Next(record, Floor(record, now));
            return record with { Paused = false, NextRunAt = next };
        }, cancellationToken).ConfigureAwait(false);
        Changed.Set();
        return found;
    }

    public async ValueTask<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var removed = (await store.SchedulesDeleteAsync(new SchedulesDeleteParams(name), cancellationToken).ConfigureAwait(false)).Deleted;
        if (removed)
        {
            Changed.Set();
        }

        return removed;
    }

    public async ValueTask<JobId?> TriggerAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var record = (await store.SchedulesGetAsync(new SchedulesGetParams(name), cancellationToken).ConfigureAwait(false)).Schedule;
        if (record is null)
        {
            return null;
        }

        return await client.EnqueueSerializedAsync(record.TaskName, PayloadOf(record), null, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> RunNowAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var due = false;
        await UpdateAsync(store, name, (record, now) =>
        {
            due = record is { Paused: false };
            return due ? record! with { NextRunAt = now } : null;
        }, cancellationToken).ConfigureAwait(false);
        Changed.Set();
        return due;
    }

    /// <summary>The payload an occurrence enqueues: the stored arguments, else <c>{}</c>.</summary>
    public static ReadOnlyMemory<byte> PayloadOf(ScheduleRecord record) => record.Payload ?? "{}"u8.ToArray();

    /// <summary>
    /// Validates every schedule declared on a registered task; throws <see cref="InvalidOperationException"/> naming the
    /// task and the problem. Returns the declared schedules.
    /// </summary>
    public IReadOnlyList<ScheduleRecord> DeclaredSchedules()
    {
        var declared = new List<ScheduleRecord>();
        foreach (var task in registry.Tasks.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var settings = task.Settings;
            if (settings.Cron is null && settings.Interval is null)
            {
                if (settings.TimeZone is not null)
                {
                    throw new InvalidOperationException($"Task '{task.Name}' has an invalid schedule: TimeZone '{settings.TimeZone}' is set without Cron.");
                }

                continue;
            }

            string? error = null;
            if (settings is { Cron: not null, Interval: not null })
            {
                error = "set either Cron or Interval, not both";
            }

            error ??= ValidateTiming(settings.Cron, settings.TimeZone, settings.Interval);
            if (error is not null)
            {
                throw new InvalidOperationException($"Task '{task.Name}' has an invalid schedule: {error}");
            }

            try
            {
                task.DecodePayload("{}"u8);
            }
            catch (InvalidPayloadException ex)
            {
                SchedulerLog.DeclaredPayloadInvalid(logger, task.Name, ex.Message);
            }

            declared.Add(new ScheduleRecord
            {
                Name = task.Name,
                TaskName = task.Name,
                Cron = settings.Cron,
                TimeZone = settings.TimeZone,
                Interval = settings.Interval,
                Declared = true,
            });
        }

        return declared;
    }

    /// <summary>
    /// Upserts the declared schedules without undoing run-time changes: a new one is added; a declared one gets the
    /// code's timing (keeping its pause, arguments and history, and its next run when the timing is unchanged); one
    /// whose timing was changed at run time, or that was added at run time under the same name, is left alone.
    /// </summary>
    public async ValueTask SyncDeclaredAsync(IReadOnlyList<ScheduleRecord> declared, CancellationToken cancellationToken)
    {
        if (declared.Count == 0)
        {
            return;
        }

        var store = await StoreAsync(cancellationToken).ConfigureAwait(false);
        var now = await store.ClockNowAsync(cancellationToken).ConfigureAwait(false);
        foreach (var schedule in declared)
        {
            var existing = (await store.SchedulesGetAsync(new SchedulesGetParams(schedule.Name), cancellationToken).ConfigureAwait(false)).Schedule;
            if (existing is null)
            {
                // Version 0: only if no other instance added it meanwhile.
                var added = await store.SchedulesUpsertAsync(
                    new SchedulesUpsertParams(schedule with { NextRunAt = Occurrences.Next(schedule, now) }, ExpectedVersion: 0), cancellationToken).ConfigureAwait(false);
                if (added.Schedule is not null)
                {
                    SchedulerLog.DeclaredAdded(logger, schedule.Name, Describe(schedule));
                }

                continue;
            }

            var same = SameTiming(existing, schedule, null);
            if (!existing.Declared)
            {
                if (!same)
                {
                    SchedulerLog.DeclaredOverridden(logger, schedule.Name, Describe(schedule), Describe(existing));
                }

                continue;
            }

            if (same && existing.NextRunAt is not null)
            {
                continue;
            }

            var updated = existing with
            {
                TaskName = schedule.TaskName,
                Cron = schedule.Cron,
                TimeZone = schedule.TimeZone,
                Interval = schedule.Interval,
                NextRunAt = Occurrences.Next(schedule, Floor(existing, now)),
            };
            var written = await store.SchedulesUpsertAsync(new SchedulesUpsertParams(updated, existing.Version), cancellationToken).ConfigureAwait(false);
            if (written.Schedule is not null)
            {
                SchedulerLog.DeclaredUpdated(logger, schedule.Name, Describe(schedule), existing.Paused);
            }
        }

        Changed.Set();
    }

    /// <summary>
    /// Reads a schedule, lets <paramref name="change"/> compute its new state from it and the store's now (null: leave it),
    /// and writes it only if nobody wrote it in between; re-reads and tries again when somebody did. Returns the stored
    /// record (or the unchanged one).
    /// </summary>
    private static async ValueTask<ScheduleRecord?> UpdateAsync(IScheduleStore store, string name,
        Func<ScheduleRecord?, DateTimeOffset, ScheduleRecord?> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            var existing = (await store.SchedulesGetAsync(new SchedulesGetParams(name), cancellationToken).ConfigureAwait(false)).Schedule;
            var now = await store.ClockNowAsync(cancellationToken).ConfigureAwait(false);
            if (change(existing, now) is not { } updated)
            {
                return existing;
            }

            var written = await store.SchedulesUpsertAsync(new SchedulesUpsertParams(updated, existing?.Version ?? 0), cancellationToken)
                .ConfigureAwait(false);
            if (written.Schedule is { } stored)
            {
                return stored;
            }
        }
    }

    /// <summary>The schedules store, initialized.</summary>
    public async ValueTask<IScheduleStore> StoreAsync(CancellationToken cancellationToken)
    {
        var store = storage.Schedules ?? throw new InvalidOperationException(
            "No storage is assigned to the Schedules role: use a backend that stores schedules (UseInMemory(), UseSqlite(...), …).");
        await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>New timings never start before now nor before the last run (a clock that went back must not repeat it).</summary>
    public static DateTimeOffset Floor(ScheduleRecord? existing, DateTimeOffset now) =>
        existing?.LastRunAt is { } last && last > now ? last : now;

    private string? ValidateTiming(string? cron, string? timeZone, TimeSpan? interval)
    {
        if (cron is not null)
        {
            try
            {
                Occurrences.Cron(cron, timeZone);
            }
            catch (FormatException ex)
            {
                return ex.Message;
            }
        }
        else if (timeZone is not null)
        {
            return "TimeZone applies to Cron only";
        }

        if (interval is { } value && value < Occurrences.MinInterval)
        {
            return $"interval {value} is shorter than the minimum of {Occurrences.MinInterval}";
        }

        return null;
    }

    private static bool SameTiming(ScheduleRecord existing, ScheduleRecord wanted, DateTimeOffset? runAt)
    {
        if (!string.Equals(existing.TaskName, wanted.TaskName, StringComparison.Ordinal)
            || !string.Equals(existing.Cron?.Trim(), wanted.Cron?.Trim(), StringComparison.Ordinal)
            || !string.Equals(existing.Cron is null ? null : existing.TimeZone, wanted.Cron is null ? null : wanted.TimeZone, StringComparison.Ordinal)
            || existing.Interval != wanted.Interval)
        {
            return false;
        }

        // One-time schedules are the same when they run at the same instant (whether or not that run happened yet).
        return runAt is null || (existing.NextRunAt ?? existing.LastRunAt) == runAt;
    }

    private static void ValidateName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            throw new ArgumentException($"'{name}' is not a valid schedule name: use 1-{MaxNameLength} characters without control characters.", nameof(name));
        }
    }

    private static string Describe(ScheduleRecord schedule) =>
        schedule.Cron is { } cron ? $"cron '{cron}' in {schedule.TimeZone ?? "UTC"}"
        : schedule.Interval is { } interval ? $"every {interval}"
        : "once";

    internal static ScheduleInfo ToInfo(ScheduleRecord record) => new()
    {
        Name = record.Name,
        TaskName = record.TaskName,
        Kind = record.Cron is not null ? ScheduleKind.Cron : record.Interval is not null ? ScheduleKind.Interval : ScheduleKind.Once,
        Cron = record.Cron,
        TimeZone = record.TimeZone,
        Interval = record.Interval,
        Payload = record.Payload,
        Paused = record.Paused,
        NextRunAt = record.NextRunAt,
        LastRunAt = record.LastRunAt,
        Declared = record.Declared,
    };
}
