using System.Text;

namespace TypedJobs.Storage;

/// <summary>
/// Small rules every backend applies the same way, in one place: argument checks of decided completions and bulk
/// actions, the queues a claim takes from, which states a bulk action touches, the errors rescue records, text matching
/// and throughput minutes.
/// </summary>
public static class StorageRules
{
    /// <summary>The most jobs one bulk call may touch.</summary>
    public const int MaxBulkBatch = 1000;

    /// <summary>The longest throughput window a store returns.</summary>
    public static readonly TimeSpan MaxThroughputWindow = TimeSpan.FromDays(1);

    /// <summary>
    /// The longest delay a store is given (an insert's or a completion's) and the longest time it keeps a result: 100
    /// years. Every store can add it to its clock without overflowing a timestamp; the engine caps the delays it decides
    /// (snoozes, retry backoffs, result retention) at it, and the client refuses a longer enqueue delay.
    /// </summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(36525);

    /// <summary>Throws <see cref="ArgumentException"/> when a completion is not one the engine can decide.</summary>
    public static void ValidateCompletion(JobCompletion completion)
    {
        if (completion.TargetState is not (JobState.Succeeded or JobState.Dead or JobState.Cancelled or JobState.Ready or JobState.Scheduled))
        {
            throw new ArgumentException($"A completion cannot move job {completion.Job} to {completion.TargetState}.", nameof(completion));
        }

        if (completion.AttemptDelta is not (0 or -1))
        {
            throw new ArgumentException($"A completion's attempt adjustment must be 0 or -1, not {completion.AttemptDelta}.", nameof(completion));
        }

        if (completion.Delay < TimeSpan.Zero || completion.Delay > MaxDelay)
        {
            throw new ArgumentException($"A completion's delay must be between zero and {MaxDelay.Days} days ({completion.Delay}).", nameof(completion));
        }

        if (completion.ResultTtl > MaxDelay)
        {
            throw new ArgumentException($"A result is kept at most {MaxDelay.Days} days ({completion.ResultTtl}).", nameof(completion));
        }

        if (completion.Result is not null && completion.TargetState != JobState.Succeeded)
        {
            throw new ArgumentException("Only a completion to Succeeded carries a result.", nameof(completion));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> for a bulk batch outside 1-<see cref="MaxBulkBatch"/> or an unknown action.</summary>
    public static void ValidateBulk(JobsBulkParams parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Filter);
        if (parameters.Max is < 1 or > MaxBulkBatch)
        {
            throw new ArgumentException($"A bulk action takes 1-{MaxBulkBatch} jobs per call, not {parameters.Max}.", nameof(parameters));
        }

        if (!Enum.IsDefined(parameters.Action))
        {
            throw new ArgumentException($"Unknown bulk action {parameters.Action}.", nameof(parameters));
        }
    }

    /// <summary>
    /// The queues a claim takes from, each named once in the order of its first appearance: a name given more than once
    /// counts once with the sum of its maximums, a queue whose maximum is 0 or less is left out, and no queue's maximum
    /// exceeds the claim's <see cref="JobsClaimParams.Max"/> (so the sum cannot overflow). Empty when the claim's
    /// <see cref="JobsClaimParams.Max"/> is 0 or less. A non-empty array is new at every call, so a store may count its
    /// maximums down as it claims.
    /// </summary>
    public static QueueClaim[] ClaimQueues(JobsClaimParams parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var asked = parameters.Queues;
        if (parameters.Max <= 0 || asked.Count == 0)
        {
            return [];
        }

        var merged = new QueueClaim[asked.Count];
        var count = 0;
        for (var i = 0; i < asked.Count; i++)
        {
            var queue = asked[i];
            if (queue.Max <= 0)
            {
                continue;
            }

            // A claim names a handful of queues: a linear search beats hashing them.
            var at = 0;
            while (at < count && !string.Equals(merged[at].Name, queue.Name, StringComparison.Ordinal))
            {
                at++;
            }

            var max = at < count ? (long)merged[at].Max + queue.Max : queue.Max;
            merged[at] = new QueueClaim(queue.Name, (int)Math.Min(max, parameters.Max));
            count = Math.Max(count, at + 1);
        }

        return count == merged.Length ? merged : merged[..count];
    }

    /// <summary>Whether a bulk action applies to a job in <paramref name="state"/>: retry to dead and cancelled jobs, cancel to unfinished ones, delete to all.</summary>
    public static bool BulkApplies(JobsBulkAction action, JobState state) => action switch
    {
        JobsBulkAction.Retry => state is JobState.Dead or JobState.Cancelled,
        JobsBulkAction.Cancel => !state.IsFinished(),
        _ => true,
    };

    /// <summary>The error rescue records on a job it dead-letters.</summary>
    public static string RescuedDeadError(string? workerId) => $"The lease of worker '{workerId}' expired and the job has no attempts left.";

    /// <summary>The error rescue records on a job it returns to the queue.</summary>
    public static string RescuedReadyError(string? workerId) => $"The lease of worker '{workerId}' expired; the job was returned to the queue.";

    /// <summary>Whether the payload (as UTF-8) or the error contains <paramref name="text"/>, ignoring the case of ASCII letters.</summary>
    public static bool ContainsText(ReadOnlySpan<byte> payload, string? error, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return true;
        }

        var needle = Encoding.UTF8.GetBytes(text);
        return IndexOfIgnoreAsciiCase(payload, needle) >= 0
               || (error is not null && IndexOfIgnoreAsciiCase(Encoding.UTF8.GetBytes(error), needle) >= 0);
    }

    /// <summary>The start of the UTC minute holding <paramref name="instant"/>.</summary>
    public static DateTimeOffset MinuteOf(DateTimeOffset instant) =>
        new(instant.UtcTicks - (instant.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);

    /// <summary>The minutes of a throughput window ending with the minute of <paramref name="now"/>, oldest first.</summary>
    public static IReadOnlyList<DateTimeOffset> ThroughputMinutes(DateTimeOffset now, TimeSpan window)
    {
        var clamped = window <= TimeSpan.Zero ? TimeSpan.FromMinutes(1) : window > MaxThroughputWindow ? MaxThroughputWindow : window;
        var count = (int)Math.Ceiling(clamped.TotalMinutes);
        var last = MinuteOf(now);
        var minutes = new DateTimeOffset[count];
        for (var i = 0; i < count; i++)
        {
            minutes[i] = last.AddMinutes(i - count + 1);
        }

        return minutes;
    }

    /// <summary>A worker registration as JSON with stable property names, for stores that keep it as text.</summary>
    public static string SerializeWorker(WorkerRegistration worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return System.Text.Json.JsonSerializer.Serialize(worker, StorageJsonContext.Default.WorkerRegistration);
    }

    /// <summary>Reads a worker registration written by <see cref="SerializeWorker"/>.</summary>
    public static WorkerRegistration DeserializeWorker(string json) =>
        System.Text.Json.JsonSerializer.Deserialize(json, StorageJsonContext.Default.WorkerRegistration)
        ?? throw new InvalidDataException("A stored worker registration is empty.");

    private static int IndexOfIgnoreAsciiCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            var match = true;
            for (var j = 0; j < needle.Length; j++)
            {
                if (Fold(haystack[i + j]) != Fold(needle[j]))
                {
                    match = false;
                    break;
                }
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }

    private static byte Fold(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(WorkerRegistration))]
internal sealed partial class StorageJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
