using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TypedJobs.Events;

namespace TypedJobs.Storage.Nats.Internal;

/// <summary>
/// The events role: one message per event on <c>{prefix}.events.{queue}.{kind}.{job}</c> in the events stream, capped by
/// the stream's max age and size. A job's history is the messages of <c>{prefix}.events.*.*.{job}</c>.
/// </summary>
internal sealed partial class NatsStorage
{
    public async ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _ = Ready;
        // Published in order on one connection (so stored in order) and acknowledged before this returns.
        var publishes = new List<Task<PubAckResponse>>(parameters.Events.Count);
        foreach (var e in parameters.Events)
        {
            var subject = $"{EventsSubject}.{SubjectToken(e.Queue)}.{e.Kind.ToString().ToLowerInvariant()}.{e.JobId.Value:N}";
            var body = JsonSerializer.SerializeToUtf8Bytes(StoredEvent.From(e), NatsJson.Default.StoredEvent);
            publishes.Add(js.PublishAsync(subject, body, cancellationToken: cancellationToken).AsTask());
        }

        foreach (var publish in publishes)
        {
            (await publish.ConfigureAwait(false)).EnsureSuccess();
        }

        return new EventsAppendResult();
    }

    public async ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _ = Ready;
        var list = new List<JobEvent>();
        if (parameters.Limit <= 0)
        {
            return new EventsListResult(list);
        }

        var filter = parameters.JobId is { } job ? $"{EventsSubject}.*.*.{job.Value:N}" : EventsSubject + ".>";
        await ScanAsync(EventsStream, filter, msg =>
        {
            list.Add(ReadEvent(msg.Data));
            return list.Count < parameters.Limit;
        }, cancellationToken, Math.Min(ScanBatch, parameters.Limit)).ConfigureAwait(false);
        return new EventsListResult(list);
    }

    /// <summary>
    /// Deletes events older than the age from the oldest on, stopping at the first one that is not old enough (events
    /// are appended in about time order), in one purge of the stream up to that event.
    /// </summary>
    public async ValueTask<EventsPruneResult> EventsPruneAsync(EventsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var ready = Ready;
        if (parameters.Max <= 0)
        {
            return new EventsPruneResult(0);
        }

        var cutoff = time.GetUtcNow() - parameters.OlderThan;
        ulong last = 0;
        var count = 0;
        await ScanAsync(EventsStream, EventsSubject + ".>", msg =>
        {
            if (ReadEvent(msg.Data).Timestamp >= cutoff)
            {
                return false;
            }

            last = msg.Metadata!.Value.Sequence.Stream;
            count++;
            return count < parameters.Max;
        }, cancellationToken, Math.Min(ScanBatch, parameters.Max + 1)).ConfigureAwait(false);
        if (count == 0)
        {
            return new EventsPruneResult(0);
        }

        var purged = await ready.Events.PurgeAsync(new StreamPurgeRequest { Seq = last + 1 }, cancellationToken).ConfigureAwait(false);
        return new EventsPruneResult((int)Math.Min(purged.Purged, int.MaxValue));
    }

    private JobEvent ReadEvent(byte[]? data) =>
        (data is { Length: > 0 } ? JsonSerializer.Deserialize(data, NatsJson.Default.StoredEvent) : null)?.ToEvent()
        ?? throw new InvalidDataException($"A message of the NATS stream {EventsStream} is not a TypedJobs event.");

    /// <summary>
    /// A subject token for a name: letters, digits, '-' and '_' as they are; every other character (including '%') as
    /// '%' and the hex digits of its UTF-8 bytes, so no name can add a token or a wildcard.
    /// </summary>
    internal static string SubjectToken(string name)
    {
        var text = new StringBuilder(name.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            {
                text.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < name.Length
                ? Encoding.UTF8.GetBytes(name.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(name.AsSpan(i, 1), utf8);
            foreach (var b in utf8[..length])
            {
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.Length == 0 ? "%" : text.ToString();
    }
}

/// <summary>An event as stored: short stable property names; durations and instants as ticks.</summary>
internal sealed record StoredEvent(
    [property: JsonPropertyName("k")] int Kind,
    [property: JsonPropertyName("j")] Guid JobId,
    [property: JsonPropertyName("t")] string TaskName,
    [property: JsonPropertyName("q")] string Queue,
    [property: JsonPropertyName("a")] int Attempt,
    [property: JsonPropertyName("at")] long Timestamp,
    [property: JsonPropertyName("e")] string? Error,
    [property: JsonPropertyName("w")] string? WorkerId,
    [property: JsonPropertyName("d")] long? Delay,
    [property: JsonPropertyName("r")] long? Duration)
{
    public static StoredEvent From(JobEvent e) => new((int)e.Kind, e.JobId.Value, e.TaskName, e.Queue, e.Attempt, e.Timestamp.UtcTicks, e.Error,
        e.WorkerId, e.Delay?.Ticks, e.Duration?.Ticks);

    public JobEvent ToEvent() => new()
    {
        Kind = (JobEventKind)Kind,
        JobId = new JobId(JobId),
        TaskName = TaskName,
        Queue = Queue,
        Attempt = Attempt,
        Timestamp = new DateTimeOffset(Timestamp, TimeSpan.Zero),
        Error = Error,
        WorkerId = WorkerId,
        Delay = Delay is { } d ? TimeSpan.FromTicks(d) : null,
        Duration = Duration is { } r ? TimeSpan.FromTicks(r) : null,
    };
}
