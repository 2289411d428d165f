using System.Text.Json;
using System.Text.Json.Serialization;

namespace TypedJobs.AspNetCore.Admin;

// The JSON documents of the admin API. Names are camelCase and enums are strings (AdminJsonContext), whatever JSON
// settings the application uses for its own endpoints.

internal sealed record InfoDto(string Title, bool ReadOnly, bool TextSearch, bool RecordEvents, bool Antiforgery,
    int RefreshMilliseconds, string Version);

internal sealed record AntiforgeryDto(string Token, string HeaderName);

internal sealed record ProblemDto
{
    public string Type { get; init; } = "about:blank";
    public required string Title { get; init; }
    public required int Status { get; init; }
    public string? Detail { get; init; }
    public Dictionary<string, string[]>? Errors { get; init; }
    public string? TraceId { get; init; }
}

internal sealed record OverviewDto(Dictionary<string, long> Counts, int Queues, int PausedQueues, int Workers, DateTimeOffset Now);

internal sealed record JobSummaryDto
{
    public required string Id { get; init; }
    public required string Task { get; init; }
    public required string Queue { get; init; }
    public required JobState State { get; init; }
    public required Priority Priority { get; init; }
    public int Attempt { get; init; }
    public int MaxRetries { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset DueAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public double? Progress { get; init; }
    public string? ProgressMessage { get; init; }
    public string? WorkerId { get; init; }
    public string? LastError { get; init; }
}

internal sealed record JobsPageDto(IReadOnlyList<JobSummaryDto> Jobs, string? NextCursor, int Hidden);

internal sealed record CountDto(long Count);

internal sealed record JobEventDto(TypedJobs.Events.JobEventKind Kind, int Attempt, DateTimeOffset Timestamp, string? Error, string? WorkerId,
    double? DelaySeconds, double? DurationSeconds);

internal sealed record JobDetailDto
{
    public required JobSummaryDto Job { get; init; }

    /// <summary>The payload as JSON text with sensitive members replaced by "***"; null when hidden.</summary>
    public string? Payload { get; init; }

    /// <summary>Why the payload is not shown, when it is not.</summary>
    public string? PayloadHidden { get; init; }

    /// <summary>Whether members were replaced by "***".</summary>
    public bool PayloadRedacted { get; init; }

    public bool TaskRegistered { get; init; }
    public string? UniqueKey { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public string? TraceParent { get; init; }

    /// <summary>The recorded lifecycle events, oldest first; null when events are not recorded.</summary>
    public IReadOnlyList<JobEventDto>? Events { get; init; }
}

internal sealed record ChangedDto(bool Changed, JobState? State);

internal sealed record DeletedDto(long Deleted);

internal sealed record QueueDto(string Name, bool Paused, long Length, Dictionary<string, long> Counts);

internal sealed record ScheduleDto
{
    public required string Name { get; init; }
    public required string Task { get; init; }
    public required string Kind { get; init; }
    public string? Cron { get; init; }
    public string? TimeZone { get; init; }
    public double? IntervalSeconds { get; init; }
    public bool Paused { get; init; }
    public DateTimeOffset? NextRunAt { get; init; }
    public DateTimeOffset? LastRunAt { get; init; }
    public bool Declared { get; init; }
    public bool TaskRegistered { get; init; }
}

internal sealed record TriggerDto(string? JobId, bool DueNow);

internal sealed record WorkerDto
{
    public required string Id { get; init; }
    public string? Host { get; init; }
    public int ProcessId { get; init; }
    public required IReadOnlyList<string> Queues { get; init; }
    public required IReadOnlyList<string> Tasks { get; init; }
    public int Concurrency { get; init; }
    public int Running { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset LastHeartbeatAt { get; init; }
    public double SecondsSinceHeartbeat { get; init; }
}

internal sealed record WorkersDto(DateTimeOffset Now, IReadOnlyList<WorkerDto> Workers);

internal sealed record ThroughputBucketDto(DateTimeOffset Minute, long Succeeded, long Failed);

internal sealed record ThroughputDto(IReadOnlyList<ThroughputBucketDto> Buckets);

internal sealed record TaskDto
{
    public required string Name { get; init; }
    public required string Queue { get; init; }
    public required Priority Priority { get; init; }
    public int? MaxRetries { get; init; }
    public bool HasResult { get; init; }
    public bool HasSensitiveMembers { get; init; }
    public string? Cron { get; init; }
    public string? TimeZone { get; init; }
    public double? IntervalSeconds { get; init; }
}

internal sealed record EnqueueRequest
{
    public JsonElement? Payload { get; init; }
    public string? Queue { get; init; }
    public Priority? Priority { get; init; }
    public double? DelaySeconds { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public int? MaxRetries { get; init; }
    public string? UniqueKey { get; init; }
}

internal sealed record EnqueuedDto(string Id);

internal sealed record BulkFilterDto
{
    public JobState? State { get; init; }
    public string? Queue { get; init; }
    public string? Task { get; init; }
    public string? Text { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
}

internal sealed record BulkRequest
{
    public string? Action { get; init; }
    public BulkFilterDto? Filter { get; init; }
}

internal sealed record BulkProgressDto(long Done, long Total, bool Finished, string? Error = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(InfoDto))]
[JsonSerializable(typeof(AntiforgeryDto))]
[JsonSerializable(typeof(ProblemDto))]
[JsonSerializable(typeof(OverviewDto))]
[JsonSerializable(typeof(JobsPageDto))]
[JsonSerializable(typeof(CountDto))]
[JsonSerializable(typeof(JobDetailDto))]
[JsonSerializable(typeof(ChangedDto))]
[JsonSerializable(typeof(DeletedDto))]
[JsonSerializable(typeof(IReadOnlyList<QueueDto>))]
[JsonSerializable(typeof(IReadOnlyList<ScheduleDto>))]
[JsonSerializable(typeof(TriggerDto))]
[JsonSerializable(typeof(WorkersDto))]
[JsonSerializable(typeof(ThroughputDto))]
[JsonSerializable(typeof(IReadOnlyList<TaskDto>))]
[JsonSerializable(typeof(EnqueueRequest))]
[JsonSerializable(typeof(EnqueuedDto))]
[JsonSerializable(typeof(BulkRequest))]
[JsonSerializable(typeof(BulkProgressDto))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
