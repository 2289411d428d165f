using Npgsql;
using NpgsqlTypes;
using TypedJobs.Events;
using static TypedJobs.Storage.Postgres.Internal.PostgresRows;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>The results, events and schedules roles.</summary>
internal sealed partial class PostgresStorage
{
    // ---------------------------------------------------------------- results

    public async ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Results.Count > 0)
        {
            await ExecuteAsync(Sql.SetResults, hotTimeout, c =>
            {
                c.Add("ids", parameters.Results.Select(r => r.JobId.Value).ToArray());
                c.Add("tokens", parameters.Results.Select(r => r.LeaseToken).ToArray());
                c.Add("values", parameters.Results.Select(r => r.Value).ToArray());
                c.Add("ttls", parameters.Results.Select(r => Micros(r.Ttl)).ToArray());
            }, cancellationToken).ConfigureAwait(false);
        }

        return new ResultsSetResult();
    }

    public async ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        // Guid.Empty asks for a result an older version kept by job alone; this store has always keyed results by attempt.
        if (parameters.LeaseToken == Guid.Empty)
        {
            return new ResultsGetResult(null);
        }

        var rows = await QueryAsync(Sql.GetResult, bulkTimeout, c =>
        {
            c.Add("id", parameters.JobId.Value);
            c.Add("token", parameters.LeaseToken);
        }, static r => new StoredResult(r.GetFieldValue<byte[]>(0), Time(r, 1)), cancellationToken).ConfigureAwait(false);
        return new ResultsGetResult(rows.Count == 0 ? null : rows[0]);
    }

    public async ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.JobIds.Count == 0)
        {
            return new ResultsDeleteResult(0);
        }

        return new ResultsDeleteResult(await ExecuteAsync(Sql.DeleteResults, bulkTimeout,
            c => c.Add("ids", parameters.JobIds.Select(i => i.Value).ToArray()), cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0)
        {
            return new ResultsPruneResult(0);
        }

        return new ResultsPruneResult(await ExecuteAsync(Sql.PruneResults, bulkTimeout, c => c.Add("max", parameters.Max), cancellationToken)
            .ConfigureAwait(false));
    }

    // ---------------------------------------------------------------- events

    public async ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var events = parameters.Events;
        if (events.Count > 0)
        {
            await ExecuteAsync(Sql.AppendEvents, hotTimeout, c =>
            {
                c.Add("job_ids", events.Select(e => e.JobId.Value).ToArray());
                c.Add("kinds", events.Select(e => (int)e.Kind).ToArray());
                c.Add("tasks", events.Select(e => e.TaskName).ToArray());
                c.Add("queues", events.Select(e => e.Queue).ToArray());
                c.Add("attempts", events.Select(e => e.Attempt).ToArray());
                c.Add("ats", events.Select(e => Utc(e.Timestamp)).ToArray());
                c.Add("at_ticks", events.Select(e => e.Timestamp.UtcTicks).ToArray());
                c.Add("errors", events.Select(e => Text(e.Error)).ToArray());
                c.Add("worker_ids", events.Select(e => e.WorkerId).ToArray());
                c.Add("delays", events.Select(e => e.Delay?.Ticks).ToArray());
                c.Add("durations", events.Select(e => e.Duration?.Ticks).ToArray());
            }, cancellationToken).ConfigureAwait(false);
        }

        return new EventsAppendResult();
    }

    public async ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var events = await QueryAsync(Sql.ListEvents, bulkTimeout, c =>
        {
            c.Parameters.AddNullable("job_id", parameters.JobId?.Value, NpgsqlDbType.Uuid);
            c.Add("limit", Math.Max(0, parameters.Limit));
        }, static r => new JobEvent
        {
            JobId = new JobId(r.GetGuid(0)),
            Kind = (JobEventKind)r.GetInt32(1),
            TaskName = r.GetString(2),
            Queue = r.GetString(3),
            Attempt = r.GetInt32(4),
            Timestamp = new DateTimeOffset(r.GetInt64(5), TimeSpan.Zero),
            Error = NullableString(r, 6),
            WorkerId = NullableString(r, 7),
            Delay = r.IsDBNull(8) ? null : TimeSpan.FromTicks(r.GetInt64(8)),
            Duration = r.IsDBNull(9) ? null : TimeSpan.FromTicks(r.GetInt64(9)),
        }, cancellationToken).ConfigureAwait(false);
        return new EventsListResult(events);
    }

    public async ValueTask<EventsPruneResult> EventsPruneAsync(EventsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0)
        {
            return new EventsPruneResult(0);
        }

        return new EventsPruneResult(await ExecuteAsync(Sql.PruneEvents, bulkTimeout, c =>
        {
            c.Add("older_us", Micros(parameters.OlderThan));
            c.Add("max", parameters.Max);
        }, cancellationToken).ConfigureAwait(false));
    }

    // ---------------------------------------------------------------- schedules

    public async ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Schedule);
        var schedule = parameters.Schedule;
        var sql = parameters.ExpectedVersion switch
        {
            null => Sql.UpsertSchedule,
            0 => Sql.InsertScheduleIfMissing,
            _ => Sql.UpdateScheduleAtVersion,
        };
        var versions = await QueryAsync(sql, hotTimeout, c =>
        {
            BindSchedule(c.Parameters, schedule);
            if (parameters.ExpectedVersion is { } expected and not 0)
            {
                c.Add("expected_version", expected);
            }
        }, static r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
        return new SchedulesUpsertResult(versions.Count == 1 ? schedule with { Version = versions[0] } : null);
    }

    private static void BindSchedule(NpgsqlParameterCollection p, ScheduleRecord schedule)
    {
        p.AddNullable("name", schedule.Name, NpgsqlDbType.Text);
        p.AddNullable("task", schedule.TaskName, NpgsqlDbType.Text);
        p.AddNullable("cron", schedule.Cron, NpgsqlDbType.Text);
        p.AddNullable("interval_ticks", schedule.Interval?.Ticks, NpgsqlDbType.Bigint);
        p.AddNullable("time_zone", schedule.TimeZone, NpgsqlDbType.Text);
        p.AddNullable("payload", schedule.Payload, NpgsqlDbType.Bytea);
        p.AddNullable("paused", schedule.Paused, NpgsqlDbType.Boolean);
        p.AddNullable("next_run_at", schedule.NextRunAt is { } next ? Utc(next) : null, NpgsqlDbType.TimestampTz);
        p.AddNullable("last_run_at", schedule.LastRunAt is { } last ? Utc(last) : null, NpgsqlDbType.TimestampTz);
        p.AddNullable("declared", schedule.Declared, NpgsqlDbType.Boolean);
    }

    public async ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.SelectSchedule, bulkTimeout, c => c.Add("name", parameters.Name), ReadSchedule, cancellationToken)
            .ConfigureAwait(false);
        return new SchedulesGetResult(rows.Count == 0 ? null : rows[0]);
    }

    public async ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(Sql.ListSchedules, bulkTimeout, static _ => { }, ReadSchedule, cancellationToken).ConfigureAwait(false);
        rows.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new SchedulesListResult(rows);
    }

    public async ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new SchedulesDeleteResult(await ExecuteAsync(Sql.DeleteSchedule, hotTimeout, c => c.Add("name", parameters.Name), cancellationToken)
            .ConfigureAwait(false) == 1);
    }

    public async ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.AdvanceSchedule, hotTimeout, c =>
        {
            c.Add("name", parameters.Name);
            c.Add("expected_version", parameters.ExpectedVersion);
            c.Parameters.AddNullable("last_run_at", parameters.LastRunAt is { } last ? Utc(last) : null, NpgsqlDbType.TimestampTz);
            c.Parameters.AddNullable("next_run_at", parameters.NextRunAt is { } next ? Utc(next) : null, NpgsqlDbType.TimestampTz);
        }, ReadSchedule, cancellationToken).ConfigureAwait(false);
        return new SchedulesAdvanceResult(rows.Count == 0 ? null : rows[0]);
    }

    public async ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // One batch is one implicit transaction: both statements see the same now().
        await using var batch = new NpgsqlBatch(connection) { Timeout = hotTimeout };
        var due = BatchCommand(Sql.DueSchedules);
        due.Add("max", Math.Max(0, parameters.Max));
        batch.BatchCommands.Add(due);
        batch.BatchCommands.Add(BatchCommand(Sql.NextScheduleDue));
        var list = new List<ScheduleRecord>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(ReadSchedule(reader));
        }

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new SchedulesDueResult(list, Time(reader, 1), NullableTime(reader, 0));
    }
}
