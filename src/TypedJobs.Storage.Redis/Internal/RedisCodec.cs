using System.Globalization;
using StackExchange.Redis;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>Conversions between the store's values and what the scripts keep: times as µs since the Unix epoch, ids and tokens as 32 hex digits.</summary>
internal static class RedisCodec
{
    private const long UnixEpochTicks = 621355968000000000;

    /// <summary>µs since the Unix epoch (rounded down).</summary>
    public static long Micros(DateTimeOffset instant) => Math.DivRem(instant.UtcTicks - UnixEpochTicks, 10, out var rest) - (rest < 0 ? 1 : 0);

    /// <summary>A duration in whole µs (rounded up, so a positive duration never becomes zero).</summary>
    public static long Micros(TimeSpan duration) => duration <= TimeSpan.Zero ? 0 : (duration.Ticks + 9) / 10;

    public static DateTimeOffset Time(long micros) => new(UnixEpochTicks + (micros * 10), TimeSpan.Zero);

    public static DateTimeOffset Time(RedisValue micros) => Time(Long(micros));

    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static long Long(RedisValue value) => long.Parse((string)value!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    public static int Int(RedisValue value) => int.Parse((string)value!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    public static string Hex(JobId id) => id.Value.ToString("N");

    public static string Hex(Guid token) => token.ToString("N");

    public static Guid Guid(RedisValue hex) => System.Guid.ParseExact((string)hex!, "N");

    public static JobId Id(RedisValue hex) => new(Guid(hex));

    /// <summary>An optional string for a script: '' for null, '=' and the value otherwise.</summary>
    public static RedisValue Optional(string? value) => value is null ? RedisValue.EmptyString : "=" + value;

    /// <summary>Optional bytes for a script: '' for null, '=' and the bytes otherwise.</summary>
    public static RedisValue Optional(byte[]? value)
    {
        if (value is null)
        {
            return RedisValue.EmptyString;
        }

        var bytes = new byte[value.Length + 1];
        bytes[0] = (byte)'=';
        value.CopyTo(bytes, 1);
        return bytes;
    }

    /// <summary>The fields of a hash returned by HGETALL.</summary>
    public static Dictionary<string, RedisValue> Hash(RedisResult result)
    {
        var items = (RedisResult[])result!;
        var hash = new Dictionary<string, RedisValue>(items.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < items.Length; i += 2)
        {
            hash[(string)items[i]!] = (RedisValue)items[i + 1];
        }

        return hash;
    }

    /// <summary>A job from its hash; <paramref name="nowMicros"/> tells a waiting job that is due (Ready) from one that is not (Scheduled).</summary>
    public static JobRecord Job(string idHex, string queue, Dictionary<string, RedisValue> h, long nowMicros)
    {
        var stored = Int(h["s"]);
        var due = Long(h["d"]);
        var state = stored == 1 ? (due > nowMicros ? JobState.Scheduled : JobState.Ready) : (JobState)stored;
        return new JobRecord
        {
            Id = Id(idHex),
            TaskName = (string)h["t"]!,
            Queue = queue,
            Priority = (Priority)Int(h["p"]),
            State = state,
            Payload = (byte[]?)h["pl"] ?? [],
            Attempt = Int(h["a"]),
            MaxRetries = Int(h["mr"]),
            CreatedAt = Time(h["c"]),
            DueAt = Time(due),
            StartedAt = OptionalTime(h, "st"),
            FinishedAt = state.IsFinished() ? OptionalTime(h, "f") : null,
            LeaseExpiresAt = state == JobState.Running ? OptionalTime(h, "le") : null,
            LeaseToken = state == JobState.Running && h.TryGetValue("lt", out var lt) ? Guid(lt) : null,
            SucceededLeaseToken = h.TryGetValue("sl", out var sl) ? Guid(sl) : null,
            WorkerId = OptionalString(h, "w"),
            UniqueKey = OptionalString(h, "u"),
            LastError = OptionalString(h, "e"),
            UnknownTaskSince = OptionalTime(h, "uk"),
            Progress = h.TryGetValue("pr", out var pr) ? double.Parse((string)pr!, NumberStyles.Float, CultureInfo.InvariantCulture) : null,
            ProgressMessage = OptionalString(h, "pm"),
            TraceParent = OptionalString(h, "tp"),
            TraceState = OptionalString(h, "ts"),
        };
    }

    public static string? OptionalString(Dictionary<string, RedisValue> h, string field) => h.TryGetValue(field, out var v) ? (string?)v : null;

    public static DateTimeOffset? OptionalTime(Dictionary<string, RedisValue> h, string field) => h.TryGetValue(field, out var v) ? Time(v) : null;
}
