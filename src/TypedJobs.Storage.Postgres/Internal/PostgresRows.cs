using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>Parameter binding and row reading shared by every part of the store.</summary>
internal static class PostgresRows
{
    /// <summary>The most microseconds a duration may carry (a thousand years), so adding it to now stays a valid timestamp.</summary>
    private const long MaxMicroseconds = 1000L * 366 * 24 * 3600 * 1_000_000;

    public static void Add<T>(this NpgsqlCommand command, string name, T value) =>
        command.Parameters.Add(new NpgsqlParameter<T>(name, value));

    public static void Add<T>(this NpgsqlBatchCommand command, string name, T value) =>
        command.Parameters.Add(new NpgsqlParameter<T>(name, value));

    /// <summary>Binds a value that may be null, with its PostgreSQL type (a typed null).</summary>
    public static void AddNullable(this NpgsqlParameterCollection parameters, string name, object? value, NpgsqlDbType type) =>
        parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });

    /// <summary>A duration as whole microseconds, clamped to ±1000 years.</summary>
    public static long Micros(TimeSpan value) => Math.Clamp(value.Ticks / 10, -MaxMicroseconds, MaxMicroseconds);

    /// <summary>A UTC instant for a <c>timestamptz</c> parameter (Npgsql accepts only UTC).</summary>
    public static DateTime Utc(DateTimeOffset value) => value.UtcDateTime;

    public static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    public static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Time(reader, ordinal);

    public static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Unique keys are stored as UTF-8 bytes: PostgreSQL text cannot hold a NUL character, a key may.</summary>
    public static byte[]? KeyBytes(string? key) => key is null ? null : Encoding.UTF8.GetBytes(key);

    /// <summary>PostgreSQL text cannot hold NUL: an error message that contains one keeps it visible as U+FFFD.</summary>
    public static string? Text(string? value) => value is null || !value.Contains('\0', StringComparison.Ordinal) ? value : value.Replace('\0', '\uFFFD');

    /// <summary>Reads a job selected with the job columns of <see cref="PostgresSql"/> (sequence first).</summary>
    public static JobRecord ReadJob(NpgsqlDataReader r, out long sequence)
    {
        sequence = r.GetInt64(0);
        return new JobRecord
        {
            Id = new JobId(r.GetGuid(1)),
            TaskName = r.GetString(2),
            Queue = r.GetString(3),
            Priority = (Priority)r.GetInt32(4),
            State = (JobState)r.GetInt32(5),
            Payload = r.GetFieldValue<byte[]>(6),
            Attempt = r.GetInt32(7),
            MaxRetries = r.GetInt32(8),
            CreatedAt = Time(r, 9),
            DueAt = Time(r, 10),
            StartedAt = NullableTime(r, 11),
            FinishedAt = NullableTime(r, 12),
            LeaseExpiresAt = NullableTime(r, 13),
            LeaseToken = r.IsDBNull(14) ? null : r.GetGuid(14),
            WorkerId = NullableString(r, 15),
            UniqueKey = r.IsDBNull(16) ? null : Encoding.UTF8.GetString(r.GetFieldValue<byte[]>(16)),
            LastError = NullableString(r, 17),
            TraceParent = NullableString(r, 18),
            TraceState = NullableString(r, 19),
            SucceededLeaseToken = r.IsDBNull(20) ? null : r.GetGuid(20),
            UnknownTaskSince = NullableTime(r, 21),
            Progress = r.IsDBNull(22) ? null : r.GetDouble(22),
            ProgressMessage = NullableString(r, 23),
        };
    }

    public static ScheduleRecord ReadSchedule(NpgsqlDataReader r) => new()
    {
        Name = r.GetString(0),
        TaskName = r.GetString(1),
        Cron = NullableString(r, 2),
        Interval = r.IsDBNull(3) ? null : TimeSpan.FromTicks(r.GetInt64(3)),
        TimeZone = NullableString(r, 4),
        Payload = r.IsDBNull(5) ? null : r.GetFieldValue<byte[]>(5),
        Paused = r.GetBoolean(6),
        NextRunAt = NullableTime(r, 7),
        LastRunAt = NullableTime(r, 8),
        Declared = r.GetBoolean(9),
        Version = r.GetInt64(10),
    };

    /// <summary>
    /// The regular expression that finds <paramref name="text"/> (as UTF-8, ignoring ASCII case) in a payload rendered by
    /// PostgreSQL's <c>encode(payload, 'escape')</c>: that rendering keeps printable ASCII, doubles backslashes and writes
    /// NUL and bytes above 127 as <c>\ooo</c>. The needle is rendered the same way and may only start at a whole token,
    /// so it never matches inside an escape sequence. The expression is a bound value, never SQL.
    /// </summary>
    public static string PayloadPattern(string text)
    {
        var pattern = new StringBuilder(@"^(?:[^\\]|\\\\|\\[0-7]{3})*?");
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (b == (byte)'\\')
            {
                pattern.Append(@"\\\\");
            }
            else if (b == 0 || b > 127)
            {
                pattern.Append(@"\\").Append(Convert.ToString(b, 8).PadLeft(3, '0'));
            }
            else if (char.IsAsciiLetterOrDigit((char)b))
            {
                pattern.Append((char)b);
            }
            else
            {
                pattern.Append('\\').Append((char)b);
            }
        }

        return pattern.ToString();
    }

    /// <summary>Lower-cases ASCII letters only (the contract's case rule for text search).</summary>
    public static string AsciiLower(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = source[i] is >= 'A' and <= 'Z' ? (char)(source[i] + 32) : source[i];
        }
    });
}
