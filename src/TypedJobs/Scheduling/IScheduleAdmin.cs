namespace TypedJobs;

/// <summary>
/// Manages recurring and one-time schedules at run time: add, update, pause, resume, remove, list, trigger now.
/// Changes are stored in the schedules storage role and picked up by every scheduler instance. See
/// <c>docs/scheduling.md</c> for how run-time changes and schedules declared in code take precedence.
/// </summary>
public interface IScheduleAdmin
{
    /// <summary>
    /// Adds a schedule, or replaces the definition of the schedule with the same name. An existing schedule keeps its
    /// paused state and last run; its next run is recomputed only when the timing changed. Changing the timing or task
    /// of a schedule declared in code takes it over: restarts no longer apply the declaration to it (see
    /// <see cref="ScheduleInfo.Declared"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The definition is invalid (the message names the field or time zone).</exception>
    /// <exception cref="UnknownTaskException">The task is not registered in this process.</exception>
    ValueTask<ScheduleInfo> AddOrUpdateAsync(ScheduleDefinition definition, CancellationToken cancellationToken = default);

    /// <summary>Gets a schedule, or <see langword="null"/> when it does not exist.</summary>
    ValueTask<ScheduleInfo?> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Lists every schedule by name, with its next and last run.</summary>
    ValueTask<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Pauses a schedule: no occurrence is enqueued until it is resumed. The pause survives restarts. Returns <see langword="false"/> when it does not exist.</summary>
    ValueTask<bool> PauseAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Resumes a paused schedule. Occurrences that fell into the pause are skipped: the next run is the first occurrence
    /// after now. A one-time schedule whose time passed during the pause runs at once. Returns <see langword="false"/> when it does not exist.
    /// </summary>
    ValueTask<bool> ResumeAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a schedule; jobs it already enqueued are not touched. A schedule declared in code is added again at the
    /// next start of a scheduler that declares it: pause it to stop it for good. Returns <see langword="false"/> when it does not exist.
    /// </summary>
    ValueTask<bool> RemoveAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Enqueues one job of the schedule's task now, with the schedule's stored arguments, whether or not it is paused;
    /// the schedule's next run is unchanged. Returns <see langword="null"/> when the schedule does not exist.
    /// </summary>
    ValueTask<JobId?> TriggerAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the schedule due now (by the store's clock): the next scheduler pass of any process whose workers know the
    /// task enqueues one occurrence, and the schedule then goes on as before. For processes that do not register the
    /// task themselves (a dashboard, the CLI). Returns <see langword="false"/> when the schedule does not exist or is paused.
    /// </summary>
    ValueTask<bool> RunNowAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>What a schedule runs and when. Set exactly one of <see cref="Cron"/>, <see cref="Interval"/> and <see cref="RunAt"/>.</summary>
public sealed record ScheduleDefinition
{
    /// <summary>The schedule's unique name (1-200 characters, no control characters).</summary>
    public required string Name { get; init; }

    /// <summary>The task each occurrence enqueues; it must be registered in the process that adds the schedule.</summary>
    public required string TaskName { get; init; }

    /// <summary>
    /// A cron expression: five fields (<c>minute hour day-of-month month day-of-week</c>), six with seconds first, or a
    /// macro (<c>@hourly @daily @midnight @weekly @monthly @yearly @annually</c>).
    /// </summary>
    public string? Cron { get; init; }

    /// <summary>The IANA time zone <see cref="Cron"/> is evaluated in, e.g. <c>Europe/Berlin</c>. Default UTC.</summary>
    public string? TimeZone { get; init; }

    /// <summary>A fixed interval (at least 1 second); occurrences are whole multiples of it counted from the Unix epoch in UTC.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>A single run at this instant (a one-time schedule); an instant in the past runs at once.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>
    /// The serialized arguments every occurrence enqueues (e.g. <c>task.PayloadSerializer.ToBytes(args)</c>);
    /// <see langword="null"/> enqueues <c>{}</c>, so the task's parameter defaults apply.
    /// </summary>
    public byte[]? Payload { get; init; }
}

/// <summary>The kind of timing of a schedule.</summary>
public enum ScheduleKind
{
    /// <summary>A cron expression in a time zone.</summary>
    Cron,

    /// <summary>A fixed interval.</summary>
    Interval,

    /// <summary>A single run at a given instant.</summary>
    Once,
}

/// <summary>A schedule as stored, with its next and last run.</summary>
public sealed record ScheduleInfo
{
    /// <summary>The schedule's unique name. Schedules declared in code are named after their task.</summary>
    public required string Name { get; init; }

    /// <summary>The task each occurrence enqueues.</summary>
    public required string TaskName { get; init; }

    /// <summary>The kind of timing.</summary>
    public ScheduleKind Kind { get; init; }

    /// <summary>The cron expression (cron schedules).</summary>
    public string? Cron { get; init; }

    /// <summary>The time zone of <see cref="Cron"/>; <see langword="null"/> means UTC.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The interval (interval schedules).</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The stored arguments; <see langword="null"/> enqueues <c>{}</c>.</summary>
    public byte[]? Payload { get; init; }

    /// <summary>Whether the schedule is paused.</summary>
    public bool Paused { get; init; }

    /// <summary>The next occurrence to enqueue; <see langword="null"/> when there is none (e.g. a one-time schedule that ran).</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>The last occurrence enqueued.</summary>
    public DateTimeOffset? LastRunAt { get; init; }

    /// <summary>
    /// Whether the timing follows a declaration in code (<c>[Task(Cron = …)]</c>, <see cref="Registration.TaskSettings.Cron"/>
    /// or <see cref="Registration.TaskSettings.Interval"/>), so a changed declaration updates it at the next start.
    /// <see langword="false"/> for schedules added at run time, and for declared ones whose timing was changed at run time.
    /// </summary>
    public bool Declared { get; init; }
}
