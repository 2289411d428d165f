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

    /// <summary>
    /// A job from its fields in the order of the scripts' JOB_FIELDS (t, p, s, pl, a, mr, c, d, st, f, le, lt, sl, w, u,
    /// e, uk, pr, pm, tp, ts, n); <paramref name="nowMicros"/> tells a waiting job that is due (Ready) from one that is not
    /// (Scheduled). Returns <see langword="null"/> when the job does not exist (every field missing).
    /// </summary>
    public static JobRecord? Job(string idHex, string queue, RedisResult fields, long nowMicros) => Job(idHex, queue, fields, nowMicros, out _);

    /// <inheritdoc cref="Job(string, string, RedisResult, long)"/>
    public static JobRecord? Job(string idHex, string queue, RedisResult fields, long nowMicros, out long sequence)
    {
        var f = (RedisResult[])fields!;
        sequence = 0;
        if (f.Length < 22 || f[0].IsNull)
        {
            return null;
        }

        RedisValue V(int i) => (RedisValue)f[i];
        DateTimeOffset? T(int i) => f[i].IsNull ? null : Time(V(i));
        string? S(int i) => f[i].IsNull ? null : (string?)V(i);
        var stored = Int(V(2));
        var due = Long(V(7));
        var state = stored == 1 ? (due > nowMicros ? JobState.Scheduled : JobState.Ready) : (JobState)stored;
        sequence = Long(V(21));
        return new JobRecord
        {
            Id = Id(idHex),
            TaskName = (string)V(0)!,
            Queue = queue,
            Priority = (Priority)Int(V(1)),
            State = state,
            Payload = (byte[]?)V(3) ?? [],
            Attempt = Int(V(4)),
            MaxRetries = Int(V(5)),
            CreatedAt = Time(V(6)),
            DueAt = Time(due),
            StartedAt = T(8),
            FinishedAt = state.IsFinished() ? T(9) : null,
            LeaseExpiresAt = state == JobState.Running ? T(10) : null,
            LeaseToken = state == JobState.Running && !f[11].IsNull ? Guid(V(11)) : null,
            SucceededLeaseToken = f[12].IsNull ? null : Guid(V(12)),
            WorkerId = S(13),
            UniqueKey = S(14),
            LastError = S(15),
            UnknownTaskSince = T(16),
            Progress = f[17].IsNull ? null : double.Parse((string)V(17)!, NumberStyles.Float, CultureInfo.InvariantCulture),
            ProgressMessage = S(18),
            TraceParent = S(19),
            TraceState = S(20),
        };
    }

    public static string? OptionalString(Dictionary<string, RedisValue> h, string field) => h.TryGetValue(field, out var v) ? (string?)v : null;

    public static DateTimeOffset? OptionalTime(Dictionary<string, RedisValue> h, string field) => h.TryGetValue(field, out var v) ? Time(v) : null;
}
