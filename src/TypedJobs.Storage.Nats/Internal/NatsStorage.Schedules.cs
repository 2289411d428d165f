using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NATS.Client.KeyValueStore;

namespace TypedJobs.Storage.Nats.Internal;

/// <summary>
/// The schedules role: one key per schedule in the schedules bucket, the record as JSON. A schedule's version is the
/// key's revision (the stream sequence of its last write): it changes with every write, never repeats after a delete
/// and a re-create, and every conditional write is checked by the server against it, so of two schedulers that read
/// one version exactly one advances it.
/// </summary>
internal sealed partial class NatsStorage
{
    public async ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Schedule);
        var bucket = Ready.Schedules;
        var schedule = parameters.Schedule;
        var key = ScheduleKey(schedule.Name);
        var value = WriteSchedule(schedule);
        switch (parameters.ExpectedVersion)
        {
            case null:
                return new SchedulesUpsertResult(schedule with { Version = (long)await bucket.PutAsync(key, value, cancellationToken: cancellationToken).ConfigureAwait(false) });
            case 0:
                var created = await bucket.TryCreateAsync(key, value, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new SchedulesUpsertResult(created.Success ? schedule with { Version = (long)created.Value } : null);
            case var expected:
                if (expected < 0)
                {
                    return new SchedulesUpsertResult(null);
                }

                var updated = await bucket.TryUpdateAsync(key, value, (ulong)expected.Value, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new SchedulesUpsertResult(updated.Success ? schedule with { Version = (long)updated.Value } : null);
        }
    }

    public async ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new SchedulesGetResult(await GetScheduleAsync(Ready.Schedules, ScheduleKey(parameters.Name), cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken)
    {
        var list = await ReadAllSchedulesAsync(cancellationToken).ConfigureAwait(false);
        return new SchedulesListResult(list);
    }

    public async ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var bucket = Ready.Schedules;
        var key = ScheduleKey(parameters.Name);
        while (true)
        {
            var entry = await bucket.TryGetEntryAsync<byte[]>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!entry.Success)
            {
                return new SchedulesDeleteResult(false);
            }

            // Deleted only if nobody wrote it since it was read, so "it existed" is exact.
            var deleted = await bucket.TryDeleteAsync(key, new NatsKVDeleteOpts { Revision = entry.Value.Revision }, cancellationToken).ConfigureAwait(false);
            if (deleted.Success)
            {
                return new SchedulesDeleteResult(true);
            }
        }
    }

    public async ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var bucket = Ready.Schedules;
        var key = ScheduleKey(parameters.Name);
        var current = await GetScheduleAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        if (current is null || current.Version != parameters.ExpectedVersion)
        {
            return new SchedulesAdvanceResult(null);
        }

        var advanced = current with { LastRunAt = parameters.LastRunAt ?? current.LastRunAt, NextRunAt = parameters.NextRunAt };
        // The server refuses the write unless the key is still at the version read: one advance per version.
        var updated = await bucket.TryUpdateAsync(key, WriteSchedule(advanced), (ulong)parameters.ExpectedVersion, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return new SchedulesAdvanceResult(updated.Success ? advanced with { Version = (long)updated.Value } : null);
    }

    public async ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var now = time.GetUtcNow();
        var all = await ReadAllSchedulesAsync(cancellationToken).ConfigureAwait(false);
        var due = all.Where(s => !s.Paused && s.NextRunAt is { } next && next <= now)
            .OrderBy(static s => s.NextRunAt).ThenBy(static s => s.Name, StringComparer.Ordinal)
            .Take(Math.Max(0, parameters.Max)).ToList();
        var nextDue = all.Where(s => !s.Paused && s.NextRunAt is { } next && next > now).Min(static s => s.NextRunAt);
        return new SchedulesDueResult(due, now, nextDue);
    }

    /// <summary>Every schedule by name (ordinal), read from one pass over the bucket's stream.</summary>
    private async Task<List<ScheduleRecord>> ReadAllSchedulesAsync(CancellationToken cancellationToken)
    {
        _ = Ready;
        var latest = new Dictionary<string, ScheduleRecord?>(StringComparer.Ordinal);
        var prefix = $"$KV.{SchedulesBucket}.";
        await ScanAsync("KV_" + SchedulesBucket, prefix + ">", msg =>
        {
            var key = msg.Subject[prefix.Length..];
            var operation = msg.Headers is { } headers && headers.TryGetValue("KV-Operation", out var op) ? op.ToString() : null;
            latest[key] = operation is "DEL" or "PURGE" || msg.Data is not { Length: > 0 } data
                ? null
                : ReadSchedule(data, (long)msg.Metadata!.Value.Sequence.Stream);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        var list = latest.Values.OfType<ScheduleRecord>().ToList();
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    private static async Task<ScheduleRecord?> GetScheduleAsync(INatsKVStore bucket, string key, CancellationToken cancellationToken)
    {
        var entry = await bucket.TryGetEntryAsync<byte[]>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return entry.Success && entry.Value.Value is { Length: > 0 } data ? ReadSchedule(data, (long)entry.Value.Revision) : null;
    }

    private static byte[] WriteSchedule(ScheduleRecord s) => JsonSerializer.SerializeToUtf8Bytes(new StoredSchedule(s.Name, s.TaskName, s.Cron,
        s.Interval?.Ticks, s.TimeZone, s.Payload, s.Paused, s.NextRunAt?.UtcTicks, s.LastRunAt?.UtcTicks, s.Declared), NatsJson.Default.StoredSchedule);

    private static ScheduleRecord ReadSchedule(byte[] data, long version)
    {
        var s = JsonSerializer.Deserialize(data, NatsJson.Default.StoredSchedule)
                ?? throw new InvalidDataException("A schedule in the NATS schedules bucket is empty.");
        return new ScheduleRecord
        {
            Name = s.Name,
            TaskName = s.TaskName,
            Cron = s.Cron,
            Interval = s.Interval is { } i ? TimeSpan.FromTicks(i) : null,
            TimeZone = s.TimeZone,
            Payload = s.Payload,
            Paused = s.Paused,
            NextRunAt = s.NextRunAt is { } n ? new DateTimeOffset(n, TimeSpan.Zero) : null,
            LastRunAt = s.LastRunAt is { } l ? new DateTimeOffset(l, TimeSpan.Zero) : null,
            Declared = s.Declared,
            Version = version,
        };
    }

    /// <summary>
    /// A key-value key for a schedule name: letters, digits, '-' and '_' as they are; every other character as '=' and
    /// the hex digits of its UTF-8 bytes (keys allow only letters, digits and -/_=.). Names stay distinct and case-sensitive.
    /// </summary>
    internal static string ScheduleKey(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var text = new StringBuilder(name.Length);
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            if (b < 128 && (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_'))
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('=').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}

/// <summary>A schedule as stored (the version is the key's revision, not stored).</summary>
internal sealed record StoredSchedule(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("task")] string TaskName,
    [property: JsonPropertyName("cron")] string? Cron,
    [property: JsonPropertyName("interval")] long? Interval,
    [property: JsonPropertyName("tz")] string? TimeZone,
    [property: JsonPropertyName("payload")] byte[]? Payload,
    [property: JsonPropertyName("paused")] bool Paused,
    [property: JsonPropertyName("next")] long? NextRunAt,
    [property: JsonPropertyName("last")] long? LastRunAt,
    [property: JsonPropertyName("declared")] bool Declared);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredSchedule))]
[JsonSerializable(typeof(StoredEvent))]
internal sealed partial class NatsJson : JsonSerializerContext;
