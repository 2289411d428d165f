using System.Text;
using MySqlConnector;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>Binding parameters and reading rows in the store's column conventions (see <see cref="MySqlSql"/>).</summary>
internal static class MySqlRows
{
    /// <summary>Binds a value as it is (numbers, byte arrays, text columns); <see langword="null"/> becomes SQL NULL.</summary>
    public static void Add(this MySqlCommand command, string name, object? value) =>
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);

    /// <summary>Binds a name (queue, task, key, worker id) as its UTF-8 bytes, for the <c>VARBINARY</c> columns.</summary>
    public static void AddName(this MySqlCommand command, string name, string? value) =>
        command.Parameters.AddWithValue(name, value is null ? DBNull.Value : Encoding.UTF8.GetBytes(value));

    /// <summary>Binds an id or lease token as 16 bytes in RFC 4122 order.</summary>
    public static void AddGuid(this MySqlCommand command, string name, Guid? value) =>
        command.Parameters.AddWithValue(name, value is { } guid ? guid.ToByteArray(bigEndian: true) : DBNull.Value);

    /// <summary>Binds an instant as a UTC <c>DATETIME(6)</c>.</summary>
    public static void AddTime(this MySqlCommand command, string name, DateTimeOffset? value) =>
        command.Parameters.Add(new MySqlParameter(name, MySqlDbType.DateTime) { Value = value is { } time ? time.UtcDateTime : DBNull.Value });

    /// <summary>Binds a duration as whole microseconds (for <c>INTERVAL … MICROSECOND</c>).</summary>
    public static void AddMicroseconds(this MySqlCommand command, string name, TimeSpan value) =>
        command.Parameters.AddWithValue(name, value.Ticks / 10);

    public static Guid ToGuid(byte[] bytes) => new(bytes, bigEndian: true);

    public static Guid GetGuid(MySqlDataReader r, int ordinal) => ToGuid(r.GetFieldValue<byte[]>(ordinal));

    public static Guid? GetGuidOrNull(MySqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : GetGuid(r, ordinal);

    public static string GetName(MySqlDataReader r, int ordinal) => Encoding.UTF8.GetString(r.GetFieldValue<byte[]>(ordinal));

    public static string? GetNameOrNull(MySqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : GetName(r, ordinal);

    public static string? GetTextOrNull(MySqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    public static DateTimeOffset GetTime(MySqlDataReader r, int ordinal) =>
        new(DateTime.SpecifyKind(r.GetDateTime(ordinal), DateTimeKind.Utc));

    public static DateTimeOffset? GetTimeOrNull(MySqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : GetTime(r, ordinal);

    /// <summary>Reads a job row selected with <see cref="MySqlSql.JobColumns"/> followed by the statement's now.</summary>
    public static JobRecord ReadJob(MySqlDataReader r, out long sequence)
    {
        sequence = r.GetInt64(0);
        var state = r.GetInt32(5);
        var due = GetTime(r, 10);
        var now = GetTime(r, 24);
        if (state == MySqlSql.Waiting)
        {
            state = due > now ? (int)JobState.Scheduled : (int)JobState.Ready;
        }

        return new JobRecord
        {
            Id = new JobId(GetGuid(r, 1)),
            TaskName = GetName(r, 2),
            Queue = GetName(r, 3),
            Priority = (Priority)r.GetInt32(4),
            State = (JobState)state,
            Payload = r.GetFieldValue<byte[]>(6),
            Attempt = r.GetInt32(7),
            MaxRetries = r.GetInt32(8),
            CreatedAt = GetTime(r, 9),
            DueAt = due,
            StartedAt = GetTimeOrNull(r, 11),
            FinishedAt = GetTimeOrNull(r, 12),
            LeaseExpiresAt = GetTimeOrNull(r, 13),
            LeaseToken = GetGuidOrNull(r, 14),
            WorkerId = GetNameOrNull(r, 15),
            UniqueKey = GetNameOrNull(r, 16),
            LastError = GetTextOrNull(r, 17),
            TraceParent = GetTextOrNull(r, 18),
            TraceState = GetTextOrNull(r, 19),
            SucceededLeaseToken = GetGuidOrNull(r, 20),
            UnknownTaskSince = GetTimeOrNull(r, 21),
            Progress = r.IsDBNull(22) ? null : r.GetDouble(22),
            ProgressMessage = GetTextOrNull(r, 23),
        };
    }

    /// <summary>A job's UTF-8 bytes for a name, or <see langword="null"/>.</summary>
    public static byte[]? Utf8(string? value) => value is null ? null : Encoding.UTF8.GetBytes(value);
}
