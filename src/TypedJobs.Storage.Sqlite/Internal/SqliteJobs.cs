using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>Statement helpers shared by the store's writer and by transactional enqueue on a caller's connection.</summary>
internal static class SqliteJobs
{
    public static long Ticks(DateTimeOffset value) => value.UtcTicks;

    public static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>
    /// Binds a parameter, reusing the command's parameter of that name if it has one (kept commands run once per job);
    /// ids and lease tokens (<see cref="Guid"/>) are bound as 16-byte BLOBs.
    /// </summary>
    public static SqliteParameter Add(this SqliteCommand command, string name, object? value)
    {
        var bound = value switch
        {
            Guid guid => guid.ToByteArray(),
            null => DBNull.Value,
            _ => value,
        };
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index >= 0)
        {
            var parameter = parameters[index];
            parameter.Value = bound;
            return parameter;
        }

        return value is Guid
            ? parameters.Add(new SqliteParameter(name, SqliteType.Blob) { Value = bound })
            : parameters.AddWithValue(name, bound);
    }

    /// <summary>A JSON array of integers, for <c>json_each</c> parameters.</summary>
    public static string JsonArray(IEnumerable<long> values)
    {
        var text = new StringBuilder("[");
        foreach (var value in values)
        {
            if (text.Length > 1)
            {
                text.Append(',');
            }

            text.Append(value.ToString(CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }

    /// <summary>A JSON array of strings, for <c>json_each</c> parameters.</summary>
    public static string JsonArray(IEnumerable<string> values) =>
        System.Text.Json.JsonSerializer.Serialize(values.ToArray(), SqliteJsonContext.Default.StringArray);

    /// <summary>
    /// Inserts a batch inside the current transaction. An id that already exists yields that id (an enqueue retried
    /// after an unknown outcome is idempotent); a unique key a job of the same queue holds yields that job's id.
    /// </summary>
    public static JobInsertOutcome[] Insert(SqliteSql sql, Func<string, SqliteCommand> command, IReadOnlyList<JobInsert> jobs,
        DateTimeOffset now, out bool anyReady)
    {
        anyReady = false;
        var outcomes = new JobInsertOutcome[jobs.Count];
        var nowTicks = Ticks(now);
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            ArgumentNullException.ThrowIfNull(job);
            var due = (job.RunAt ?? now) + (job.Delay ?? TimeSpan.Zero);
            var insert = command(sql.InsertJob);
            insert.Add("@id", job.Id.Value);
            insert.Add("@task", job.TaskName);
            insert.Add("@queue", job.Queue);
            insert.Add("@priority", (int)job.Priority);
            insert.Add("@payload", job.Payload);
            insert.Add("@max_retries", job.MaxRetries);
            insert.Add("@now", nowTicks);
            insert.Add("@due_at", Ticks(due));
            insert.Add("@unique_key", job.UniqueKey);
            insert.Add("@unique_until_pruned", job.UniqueUntilPruned ? 1 : 0);
            insert.Add("@trace_parent", job.TraceParent);
            insert.Add("@trace_state", job.TraceState);
            if (insert.ExecuteNonQuery() == 1)
            {
                outcomes[i] = new JobInsertOutcome(job.Id, true);
                anyReady |= due <= now;
                continue;
            }

            var exists = command(sql.SelectIdExists);
            exists.Add("@id", job.Id.Value);
            if (exists.ExecuteScalar() is not null)
            {
                outcomes[i] = new JobInsertOutcome(job.Id, false);
                continue;
            }

            // The key is taken in this queue; before the contract migration of an upgraded database the older,
            // database-wide unique index may also have refused it for a job of another queue.
            var existing = FindByKey(command(sql.SelectIdByQueueUniqueKey), job)
                           ?? FindByKey(command(sql.SelectIdByUniqueKey), job)
                           ?? throw new InvalidOperationException($"The job {job.Id} was neither inserted nor deduplicated.");
            outcomes[i] = new JobInsertOutcome(existing, false);
        }

        return outcomes;
    }

    private static JobId? FindByKey(SqliteCommand select, JobInsert job)
    {
        if (job.UniqueKey is null)
        {
            return null;
        }

        select.Add("@queue", job.Queue);
        select.Add("@unique_key", job.UniqueKey);
        using var reader = select.ExecuteReader();
        return reader.Read() ? new JobId(reader.GetGuid(0)) : null;
    }

    /// <summary>
    /// Reads a job row selected with the columns of <see cref="SqliteSql"/> (sequence first). A claim knows the queue
    /// (when it asked for one) and the worker it wrote, and passes them so each row does not read them into new strings.
    /// </summary>
    public static JobRecord ReadJob(SqliteDataReader r, long nowTicks, out long sequence, string? knownQueue = null, string? knownWorker = null)
    {
        sequence = r.GetInt64(0);
        var state = r.GetInt32(5);
        var due = r.GetInt64(10);
        if (state == SqliteSql.Waiting)
        {
            state = due > nowTicks ? (int)JobState.Scheduled : (int)JobState.Ready;
        }

        return new JobRecord
        {
            Id = new JobId(r.GetGuid(1)),
            TaskName = r.GetString(2),
            Queue = knownQueue ?? r.GetString(3),
            Priority = (Priority)r.GetInt32(4),
            State = (JobState)state,
            Payload = r.IsDBNull(6) ? [] : r.GetFieldValue<byte[]>(6),
            Attempt = r.GetInt32(7),
            MaxRetries = r.GetInt32(8),
            CreatedAt = Time(r.GetInt64(9)),
            DueAt = Time(due),
            StartedAt = r.IsDBNull(11) ? null : Time(r.GetInt64(11)),
            FinishedAt = r.IsDBNull(12) ? null : Time(r.GetInt64(12)),
            LeaseExpiresAt = r.IsDBNull(13) ? null : Time(r.GetInt64(13)),
            LeaseToken = r.IsDBNull(14) ? null : r.GetGuid(14),
            WorkerId = knownWorker ?? (r.IsDBNull(15) ? null : r.GetString(15)),
            UniqueKey = r.IsDBNull(16) ? null : r.GetString(16),
            LastError = r.IsDBNull(17) ? null : r.GetString(17),
            TraceParent = r.IsDBNull(18) ? null : r.GetString(18),
            TraceState = r.IsDBNull(19) ? null : r.GetString(19),
            SucceededLeaseToken = r.IsDBNull(20) ? null : r.GetGuid(20),
            UnknownTaskSince = r.IsDBNull(21) ? null : Time(r.GetInt64(21)),
            Progress = r.IsDBNull(22) ? null : r.GetDouble(22),
            ProgressMessage = r.IsDBNull(23) ? null : r.GetString(23),
        };
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class SqliteJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
