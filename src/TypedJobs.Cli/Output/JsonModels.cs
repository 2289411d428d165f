using System.Text.Json;
using System.Text.Json.Serialization;

namespace TypedJobs.Cli.Output;

// The documents --output json prints. Field names are camelCase and stable: scripts depend on them, so a field is only
// ever added, never renamed or removed. Every field is always present (null when it has no value); states, kinds and
// severities are lower-case strings; durations are numbers with their unit in the name.

/// <summary><c>jobs list</c>.</summary>
internal sealed record JobListDocument(IReadOnlyList<JobSummary> Jobs, string? NextCursor);

/// <summary>One job in a list.</summary>
internal sealed record JobSummary(
    string Id, string Task, string Queue, string State, string Priority, int Attempt, int MaxRetries,
    DateTimeOffset CreatedAt, DateTimeOffset DueAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    double? Progress, string? ProgressMessage, string? WorkerId, string? UniqueKey, string? LastError);

/// <summary><c>jobs show</c>: the summary fields plus the payload and the recorded events.</summary>
internal sealed record JobDocument(
    JobSummary Job, JsonElement? Payload, string? PayloadBase64, bool PayloadRedacted, string? PayloadNote, DateTimeOffset? LeaseExpiresAt,
    string? TraceParent, IReadOnlyList<JobEventEntry> Events);

/// <summary>A recorded lifecycle event.</summary>
internal sealed record JobEventEntry(string Kind, DateTimeOffset Timestamp, int Attempt, string? WorkerId, string? Error,
    double? DelaySeconds, double? DurationSeconds);

/// <summary><c>jobs retry|cancel|delete</c>, single or bulk, and <c>queues clear</c>.</summary>
internal sealed record ActionDocument(string Action, long Matched, long Changed, IReadOnlyList<string> NotFound, IReadOnlyList<string> Skipped);

/// <summary><c>queues</c>.</summary>
internal sealed record QueueListDocument(IReadOnlyList<QueueEntry> Queues);

/// <summary>One queue with its per-state counts.</summary>
internal sealed record QueueEntry(string Name, bool Paused, long Length, StateCounts Counts);

/// <summary>Jobs per state.</summary>
internal sealed record StateCounts(long Scheduled, long Ready, long Running, long Succeeded, long Dead, long Cancelled);

/// <summary><c>schedules list</c>.</summary>
internal sealed record ScheduleListDocument(IReadOnlyList<ScheduleEntry> Schedules);

/// <summary>One schedule.</summary>
internal sealed record ScheduleEntry(string Name, string Task, string Kind, string? Cron, string? TimeZone, double? IntervalSeconds,
    bool Paused, DateTimeOffset? NextRunAt, DateTimeOffset? LastRunAt, bool Declared);

/// <summary><c>migrate</c>, <c>migrate status</c>, <c>validate</c>.</summary>
internal sealed record MigrationDocument(string Command, bool DryRun, int Pending, IReadOnlyList<MigrationBackend> Backends);

/// <summary>One backend's schema.</summary>
internal sealed record MigrationBackend(string Storage, string Roles, bool Versioned, int? CurrentVersion, int? LatestVersion,
    IReadOnlyList<MigrationEntry> Pending, IReadOnlyList<MigrationEntry> Applied);

/// <summary>One migration, with its statements (SQL for SQL stores).</summary>
internal sealed record MigrationEntry(int Version, string Description, bool Contract, IReadOnlyList<string> Statements);

/// <summary><c>doctor</c>.</summary>
internal sealed record DoctorDocument(int Findings, IReadOnlyList<DoctorCheck> Checks);

/// <summary>One check: ok, info, warning or error; warnings and errors are findings.</summary>
internal sealed record DoctorCheck(string Check, string Status, string Message, string? Code);

/// <summary>One frame of <c>stats</c> (one JSON object per line with <c>--watch</c>).</summary>
internal sealed record StatsDocument(DateTimeOffset Time, string Storage, int Workers, int Running, int Capacity,
    long SucceededLastMinute, long FailedLastMinute, IReadOnlyList<StatsQueue> Queues);

/// <summary>A queue in a stats frame; the rate is finished jobs per second since the previous frame (null on the first).</summary>
internal sealed record StatsQueue(string Name, bool Paused, StateCounts Counts, double? FinishedPerSecond);

/// <summary><c>bench</c>.</summary>
internal sealed record BenchDocument(string Storage, int Jobs, int Concurrency, double EnqueuePerSecond, double ProcessPerSecond,
    int Processed, int LatencySamples, double? LatencyP50Ms, double? LatencyP90Ms, double? LatencyP99Ms, double? LatencyMaxMs);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(JobListDocument))]
[JsonSerializable(typeof(JobDocument))]
[JsonSerializable(typeof(ActionDocument))]
[JsonSerializable(typeof(QueueListDocument))]
[JsonSerializable(typeof(ScheduleListDocument))]
[JsonSerializable(typeof(MigrationDocument))]
[JsonSerializable(typeof(DoctorDocument))]
[JsonSerializable(typeof(BenchDocument))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>Like <see cref="JsonSerializerContext"/>'s default, but writing '&gt;', '&lt;', '&amp;', '+' and non-ASCII text as they are: the output goes to terminals and files, not into HTML.</summary>
    public static CliJson Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>Stats frames are one compact JSON object per line, so <c>--watch</c> output streams (NDJSON).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatsDocument))]
internal sealed partial class CliJsonLines : JsonSerializerContext
{
    /// <summary>See <see cref="CliJson.Relaxed"/>.</summary>
    public static CliJsonLines Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
