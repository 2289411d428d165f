using Microsoft.Data.Sqlite;
using TypedJobs.Events;
using static TypedJobs.Storage.Sqlite.Internal.SqliteJobs;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>The results, events and schedules roles.</summary>
internal sealed partial class SqliteStorage
{
    // ---------------------------------------------------------------- results

    public async ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Results.Count == 0)
        {
            return new ResultsSetResult();
        }

        return await WriteAsync(ctx =>
        {
            var now = time.GetUtcNow();
            foreach (var r in parameters.Results)
            {
                var command = ctx.Command(Sql.SetResult);
                command.Add("@id", r.JobId.Value);
                command.Add("@lease_token", r.LeaseToken);
                command.Add("@value", r.Value);
                command.Add("@expires_at", Ticks(now + r.Ttl));
                command.ExecuteNonQuery();
            }

            return new ResultsSetResult();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            // Guid.Empty asks for the result of a job that a schema-version-1 worker completed (keyed by job only).
            select.CommandText = parameters.LeaseToken == Guid.Empty ? Sql.GetLegacyResult : Sql.GetResult;
            select.Add("@id", parameters.JobId.Value);
            if (parameters.LeaseToken != Guid.Empty)
            {
                select.Add("@lease_token", parameters.LeaseToken);
            }

            select.Add("@now", NowTicks());
            using var reader = select.ExecuteReader();
            return new ResultsGetResult(reader.Read() ? new StoredResult(reader.GetFieldValue<byte[]>(0), Time(reader.GetInt64(1))) : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.JobIds.Count == 0)
        {
            return new ResultsDeleteResult(0);
        }

        return await WriteAsync(ctx =>
        {
            var deleted = 0;
            foreach (var id in parameters.JobIds)
            {
                foreach (var sql in new[] { Sql.DeleteResults, Sql.DeleteLegacyResults })
                {
                    var command = ctx.Command(sql);
                    command.Add("@id", id.Value);
                    deleted += command.ExecuteNonQuery();
                }
            }

            return new ResultsDeleteResult(deleted);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var deleted = 0;
            foreach (var sql in new[] { Sql.PruneResults, Sql.PruneLegacyResults })
            {
                if (deleted >= parameters.Max)
                {
                    break;
                }

                var command = ctx.Command(sql);
                command.Add("@now", NowTicks());
                command.Add("@max", parameters.Max - deleted);
                deleted += command.ExecuteNonQuery();
            }

            return new ResultsPruneResult(deleted);
        }, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- events

    public async ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Events.Count == 0)
        {
            return new EventsAppendResult();
        }

        return await WriteAsync(ctx =>
        {
            foreach (var e in parameters.Events)
            {
                var command = ctx.Command(Sql.AppendEvent);
                command.Add("@job_id", e.JobId.Value);
                command.Add("@kind", (int)e.Kind);
                command.Add("@task", e.TaskName);
                command.Add("@queue", e.Queue);
                command.Add("@attempt", e.Attempt);
                command.Add("@at", Ticks(e.Timestamp));
                command.Add("@error", e.Error);
                command.Add("@worker_id", e.WorkerId);
                command.Add("@delay_ticks", e.Delay?.Ticks);
                command.Add("@duration_ticks", e.Duration?.Ticks);
                command.ExecuteNonQuery();
            }

            return new EventsAppendResult();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.ListEvents;
            select.Add("@job_id", parameters.JobId?.Value);
            select.Add("@limit", Math.Max(0, parameters.Limit));
            using var reader = select.ExecuteReader();
            var list = new List<JobEvent>();
            while (reader.Read())
            {
                list.Add(new JobEvent
                {
                    JobId = new JobId(reader.GetGuid(0)),
                    Kind = (JobEventKind)reader.GetInt32(1),
                    TaskName = reader.GetString(2),
                    Queue = reader.GetString(3),
                    Attempt = reader.GetInt32(4),
                    Timestamp = Time(reader.GetInt64(5)),
                    Error = reader.IsDBNull(6) ? null : reader.GetString(6),
                    WorkerId = reader.IsDBNull(7) ? null : reader.GetString(7),
                    Delay = reader.IsDBNull(8) ? null : TimeSpan.FromTicks(reader.GetInt64(8)),
                    Duration = reader.IsDBNull(9) ? null : TimeSpan.FromTicks(reader.GetInt64(9)),
                });
            }

            return new EventsListResult(list);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<EventsPruneResult> EventsPruneAsync(EventsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.PruneEvents);
            command.Add("@before", Ticks(time.GetUtcNow() - parameters.OlderThan));
            command.Add("@max", parameters.Max);
            return new EventsPruneResult(command.ExecuteNonQuery());
        }, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- schedules

    public async ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Schedule);
        var schedule = parameters.Schedule;
        return await WriteAsync(ctx =>
        {
            var version = NextScheduleVersion(ctx);
            var command = ctx.Command(parameters.ExpectedVersion switch
            {
                null => Sql.UpsertSchedule,
                0 => Sql.InsertScheduleIfMissing,
                _ => Sql.UpdateScheduleAtVersion,
            });
            command.Add("@name", schedule.Name);
            command.Add("@task", schedule.TaskName);
            command.Add("@cron", schedule.Cron);
            command.Add("@interval_ticks", schedule.Interval?.Ticks);
            command.Add("@time_zone", schedule.TimeZone);
            command.Add("@payload", schedule.Payload);
            command.Add("@paused", schedule.Paused ? 1 : 0);
            command.Add("@next_run_at", schedule.NextRunAt is { } next ? Ticks(next) : null);
            command.Add("@last_run_at", schedule.LastRunAt is { } last ? Ticks(last) : null);
            command.Add("@declared", schedule.Declared ? 1 : 0);
            command.Add("@version", version);
            if (parameters.ExpectedVersion != 0)
            {
                command.Add("@expected_version", parameters.ExpectedVersion);
            }

            return new SchedulesUpsertResult(command.ExecuteNonQuery() == 1 ? schedule with { Version = version } : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    private long NextScheduleVersion(WriteContext ctx) => (long)ctx.Command(Sql.NextScheduleVersion).ExecuteScalar()!;

    public async ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.SelectSchedule;
            select.Add("@name", parameters.Name);
            using var reader = select.ExecuteReader();
            return new SchedulesGetResult(reader.Read() ? ReadSchedule(reader) : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken) =>
        await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.ListSchedules;
            using var reader = select.ExecuteReader();
            var list = new List<ScheduleRecord>();
            while (reader.Read())
            {
                list.Add(ReadSchedule(reader));
            }

            // Ordinal order by name (SQLite's BINARY collation orders UTF-8 bytes, which differs for some characters).
            list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            return new SchedulesListResult(list);
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.DeleteSchedule);
            command.Add("@name", parameters.Name);
            return new SchedulesDeleteResult(command.ExecuteNonQuery() == 1);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var version = NextScheduleVersion(ctx);
            var command = ctx.Command(Sql.AdvanceSchedule);
            command.Add("@name", parameters.Name);
            command.Add("@expected_version", parameters.ExpectedVersion);
            command.Add("@version", version);
            command.Add("@last_run_at", parameters.LastRunAt is { } last ? Ticks(last) : null);
            command.Add("@next_run_at", parameters.NextRunAt is { } next ? Ticks(next) : null);
            using var reader = command.ExecuteReader();
            return new SchedulesAdvanceResult(reader.Read() ? ReadSchedule(reader) : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            var now = time.GetUtcNow();
            // One read transaction, so the due list and the next due time come from the same snapshot.
            using var transaction = connection.BeginTransaction(deferred: true);
            using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = Sql.DueSchedules;
            select.Add("@now", Ticks(now));
            select.Add("@max", parameters.Max);
            var list = new List<ScheduleRecord>();
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    list.Add(ReadSchedule(reader));
                }
            }

            using var next = connection.CreateCommand();
            next.Transaction = transaction;
            next.CommandText = Sql.NextScheduleDue;
            next.Add("@now", Ticks(now));
            var nextDue = next.ExecuteScalar() is long ticks ? Time(ticks) : (DateTimeOffset?)null;
            return new SchedulesDueResult(list, now, nextDue);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static ScheduleRecord ReadSchedule(SqliteDataReader r) => new()
    {
        Name = r.GetString(0),
        TaskName = r.GetString(1),
        Cron = r.IsDBNull(2) ? null : r.GetString(2),
        Interval = r.IsDBNull(3) ? null : TimeSpan.FromTicks(r.GetInt64(3)),
        TimeZone = r.IsDBNull(4) ? null : r.GetString(4),
        Payload = r.IsDBNull(5) ? null : r.GetFieldValue<byte[]>(5),
        Paused = r.GetInt64(6) != 0,
        NextRunAt = r.IsDBNull(7) ? null : Time(r.GetInt64(7)),
        LastRunAt = r.IsDBNull(8) ? null : Time(r.GetInt64(8)),
        Declared = r.GetInt64(9) != 0,
        Version = r.GetInt64(10),
    };
}
