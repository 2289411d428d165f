namespace TypedJobs.Storage;

/// <summary>
/// The schedules role: recurring and one-time schedules with optimistic versions, so any number of scheduler
/// instances can share them without a leader.
/// </summary>
public interface IScheduleStore : IStorageRole
{
    /// <summary>
    /// Inserts or replaces a schedule with a new version. With <see cref="SchedulesUpsertParams.ExpectedVersion"/> the
    /// write happens only if the stored schedule is still at that version (0: only if it does not exist).
    /// </summary>
    ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken);

    /// <summary>Gets a schedule by name.</summary>
    ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken);

    /// <summary>Lists every schedule by name (ordinal).</summary>
    ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes a schedule.</summary>
    ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a schedule forward only if it is still at the expected version (optimistic concurrency): of two
    /// schedulers that read the same version, exactly one advances it.
    /// </summary>
    ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Lists unpaused schedules whose next occurrence is at or before the store's now, earliest first, with that now
    /// and the earliest next occurrence of the unpaused schedules that are not due yet.
    /// </summary>
    ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken);
}

/// <summary>A recurring or one-time schedule as stored.</summary>
public sealed record ScheduleRecord
{
    /// <summary>The schedule's unique name.</summary>
    public required string Name { get; init; }

    /// <summary>The task each occurrence enqueues.</summary>
    public required string TaskName { get; init; }

    /// <summary>A cron expression, or <see langword="null"/> for an interval or one-time schedule.</summary>
    public string? Cron { get; init; }

    /// <summary>The interval, or <see langword="null"/> for a cron or one-time schedule.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The IANA time zone of <see cref="Cron"/>.</summary>
    public string? TimeZone { get; init; }

    /// <summary>Stored arguments; <see langword="null"/> uses the task's parameter defaults.</summary>
    public byte[]? Payload { get; init; }

    /// <summary>Whether occurrences are skipped.</summary>
    public bool Paused { get; init; }

    /// <summary>The next occurrence to enqueue.</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>The last occurrence enqueued.</summary>
    public DateTimeOffset? LastRunAt { get; init; }

    /// <summary>Whether the schedule was declared in code (<see langword="true"/>) or added at run time.</summary>
    public bool Declared { get; init; }

    /// <summary>A version that changes with every write, for optimistic updates (never 0 once stored).</summary>
    public long Version { get; init; }
}

/// <summary>Parameters of <see cref="IScheduleStore.SchedulesUpsertAsync"/>.</summary>
/// <param name="Schedule">The schedule (its version is ignored).</param>
/// <param name="ExpectedVersion">Write only if the stored version is this (0: only if none is stored); <see langword="null"/> writes unconditionally.</param>
public sealed record SchedulesUpsertParams(ScheduleRecord Schedule, long? ExpectedVersion = null);

/// <summary>Result of <see cref="IScheduleStore.SchedulesUpsertAsync"/>.</summary>
/// <param name="Schedule">The stored schedule with its new version, or <see langword="null"/> when the expected version did not match.</param>
public sealed record SchedulesUpsertResult(ScheduleRecord? Schedule);

/// <summary>Parameters of <see cref="IScheduleStore.SchedulesGetAsync"/>.</summary>
/// <param name="Name">The schedule.</param>
public sealed record SchedulesGetParams(string Name);

/// <summary>Result of <see cref="IScheduleStore.SchedulesGetAsync"/>.</summary>
/// <param name="Schedule">The schedule, or <see langword="null"/>.</param>
public sealed record SchedulesGetResult(ScheduleRecord? Schedule);

/// <summary>Parameters of <see cref="IScheduleStore.SchedulesListAsync"/>.</summary>
public sealed record SchedulesListParams;

/// <summary>Result of <see cref="IScheduleStore.SchedulesListAsync"/>.</summary>
/// <param name="Schedules">Every schedule, by name.</param>
public sealed record SchedulesListResult(IReadOnlyList<ScheduleRecord> Schedules);

/// <summary>Parameters of <see cref="IScheduleStore.SchedulesDeleteAsync"/>.</summary>
/// <param name="Name">The schedule.</param>
public sealed record SchedulesDeleteParams(string Name);

/// <summary>Result of <see cref="IScheduleStore.SchedulesDeleteAsync"/>.</summary>
/// <param name="Deleted">Whether it existed.</param>
public sealed record SchedulesDeleteResult(bool Deleted);

/// <summary>Parameters of <see cref="IScheduleStore.SchedulesAdvanceAsync"/>.</summary>
/// <param name="Name">The schedule.</param>
/// <param name="ExpectedVersion">The version the caller read.</param>
/// <param name="LastRunAt">The last occurrence enqueued; <see langword="null"/> keeps the previous one.</param>
/// <param name="NextRunAt">The next occurrence (<see langword="null"/>: none, for a one-time schedule that ran).</param>
public sealed record SchedulesAdvanceParams(string Name, long ExpectedVersion, DateTimeOffset? LastRunAt, DateTimeOffset? NextRunAt);

/// <summary>Result of <see cref="IScheduleStore.SchedulesAdvanceAsync"/>.</summary>
/// <param name="Schedule">The updated schedule, or <see langword="null"/> when another instance moved it first.</param>
public sealed record SchedulesAdvanceResult(ScheduleRecord? Schedule);

/// <summary>Parameters of <see cref="IScheduleStore.SchedulesDueAsync"/>.</summary>
/// <param name="Max">The most schedules to return.</param>
public sealed record SchedulesDueParams(int Max);

/// <summary>Result of <see cref="IScheduleStore.SchedulesDueAsync"/>.</summary>
/// <param name="Schedules">Due, unpaused schedules, earliest first.</param>
/// <param name="Now">The store's now the comparison used.</param>
/// <param name="NextDueAt">The earliest next occurrence of an unpaused schedule that is not due yet, if any.</param>
public sealed record SchedulesDueResult(IReadOnlyList<ScheduleRecord> Schedules, DateTimeOffset Now, DateTimeOffset? NextDueAt);
