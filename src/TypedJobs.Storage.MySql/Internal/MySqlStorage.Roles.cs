using System.Globalization;
using System.Text;
using MySqlConnector;
using TypedJobs.Events;
using static TypedJobs.Storage.MySql.Internal.MySqlRows;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>The results, events and schedules roles.</summary>
internal sealed partial class MySqlStorage
{
    // ---------------------------------------------------------------- results

    public async ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Results.Count == 0)
        {
            return new ResultsSetResult();
        }

        var results = parameters.Results;
        await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var command = Command(connection, "", Kind.Hot);
            var text = new StringBuilder(results.Count > 1 ? Begin : "");
            for (var i = 0; i < results.Count; i++)
            {
                text.Append(MySqlSql.Format(Sql.SetResult, N(i))).Append(";\n");
                command.AddGuid("@ri" + N(i), results[i].JobId.Value);
                command.AddGuid("@rt" + N(i), results[i].LeaseToken);
                command.Add("@rv" + N(i), results[i].Value);
                command.AddMicroseconds("@rl" + N(i), results[i].Ttl);
            }

            if (results.Count > 1)
            {
                text.Append("COMMIT");
            }

            command.CommandText = text.ToString();
            try
            {
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            catch when (results.Count > 1)
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }

            return 0;
        }, cancellationToken).ConfigureAwait(false);
        return new ResultsSetResult();
    }

    public async ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.LeaseToken == Guid.Empty)
        {
            // No version of this store kept results keyed by job alone.
            return new ResultsGetResult(null);
        }

        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.GetResult, Kind.Admin);
            select.AddGuid("@id", parameters.JobId.Value);
            select.AddGuid("@lease_token", parameters.LeaseToken);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return new ResultsGetResult(await reader.ReadAsync(ct).ConfigureAwait(false)
                ? new StoredResult(reader.GetFieldValue<byte[]>(0), GetTime(reader, 1))
                : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.JobIds.Count == 0)
        {
            return new ResultsDeleteResult(0);
        }

        var ids = parameters.JobIds.Distinct().ToArray();
        return new ResultsDeleteResult(await ExecuteAdminAsync(MySqlSql.Format(Sql.DeleteResults, MySqlSql.List("i", ids.Length)), c =>
        {
            for (var i = 0; i < ids.Length; i++)
            {
                c.AddGuid("@i" + N(i), ids[i].Value);
            }
        }, cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0)
        {
            return new ResultsPruneResult(0);
        }

        return new ResultsPruneResult(await ExecuteAdminAsync(Sql.PruneResults, c => c.Add("@max", parameters.Max), cancellationToken)
            .ConfigureAwait(false));
    }

    // ---------------------------------------------------------------- events

    public async ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Events.Count == 0)
        {
            return new EventsAppendResult();
        }

        var events = parameters.Events;
        await ExecuteAdminAsync("", command =>
        {
            // One multi-row INSERT keeps the batch's order in the auto-increment sequence.
            var text = new StringBuilder(Sql.AppendEventsHead);
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                var n = N(i);
                text.Append(i > 0 ? ", " : "").Append(MySqlSql.Format(Sql.AppendEventRow, n));
                command.AddGuid("@j" + n, e.JobId.Value);
                command.Add("@k" + n, (int)e.Kind);
                command.AddName("@t" + n, e.TaskName);
                command.AddName("@q" + n, e.Queue);
                command.Add("@a" + n, e.Attempt);
                command.AddTime("@at" + n, e.Timestamp);
                command.Add("@e" + n, e.Error);
                command.AddName("@w" + n, e.WorkerId);
                command.Add("@d" + n, e.Delay?.Ticks);
                command.Add("@du" + n, e.Duration?.Ticks);
            }

            command.CommandText = text.ToString();
        }, cancellationToken).ConfigureAwait(false);
        return new EventsAppendResult();
    }

    public async ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.ListEvents, Kind.Admin);
            select.AddGuid("@job_id", parameters.JobId?.Value);
            select.Add("@limit", Math.Max(0, parameters.Limit));
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var list = new List<JobEvent>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(new JobEvent
                {
                    JobId = new JobId(GetGuid(reader, 0)),
                    Kind = (JobEventKind)reader.GetInt32(1),
                    TaskName = GetName(reader, 2),
                    Queue = GetName(reader, 3),
                    Attempt = reader.GetInt32(4),
                    Timestamp = GetTime(reader, 5),
                    Error = GetTextOrNull(reader, 6),
                    WorkerId = GetNameOrNull(reader, 7),
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
        if (parameters.Max <= 0)
        {
            return new EventsPruneResult(0);
        }

        return new EventsPruneResult(await ExecuteAdminAsync(Sql.PruneEvents, c =>
        {
            c.AddMicroseconds("@age", parameters.OlderThan);
            c.Add("@max", parameters.Max);
        }, cancellationToken).ConfigureAwait(false));
    }

    // ---------------------------------------------------------------- schedules

    public async ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Schedule);
        var schedule = parameters.Schedule;
        var write = parameters.ExpectedVersion switch
        {
            null => Sql.UpsertSchedule,
            0 => Sql.InsertScheduleIfMissing,
            _ => Sql.UpdateScheduleAtVersion,
        };
        var stored = await WriteScheduleAsync(write, command =>
        {
            BindSchedule(command, schedule);
            if (parameters.ExpectedVersion is { } expected and not 0)
            {
                command.Add("@expected_version", expected);
            }
        }, cancellationToken).ConfigureAwait(false);
        return new SchedulesUpsertResult(stored);
    }

    private static void BindSchedule(MySqlCommand command, ScheduleRecord schedule)
    {
        command.AddName("@name", schedule.Name);
        command.AddName("@task", schedule.TaskName);
        command.Add("@cron", schedule.Cron);
        command.Add("@interval_ticks", schedule.Interval?.Ticks);
        command.Add("@time_zone", schedule.TimeZone);
        command.Add("@payload", schedule.Payload);
        command.Add("@paused", schedule.Paused ? 1 : 0);
        command.AddTime("@next_run_at", schedule.NextRunAt);
        command.AddTime("@last_run_at", schedule.LastRunAt);
        command.Add("@declared", schedule.Declared ? 1 : 0);
    }

    /// <summary>
    /// One transaction in one round trip: take the next version from the counter, write at that version (the write's own
    /// condition decides), and read the row back only if it carries the new version, i.e. if this write happened.
    /// </summary>
    private Task<ScheduleRecord?> WriteScheduleAsync(string write, Action<MySqlCommand> bind, CancellationToken cancellationToken) =>
        RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var command = Command(connection,
                Begin + Sql.NextScheduleVersion + ";\n" + write + ";\n" + Sql.SelectWrittenSchedule + ";\nCOMMIT", Kind.Hot);
            bind(command);
            try
            {
                await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadSchedule(reader, 0) : null;
            }
            catch
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }, cancellationToken);

    public async ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.SelectSchedule, Kind.Admin);
            select.AddName("@name", parameters.Name);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return new SchedulesGetResult(await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadSchedule(reader, 0) : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken) =>
        await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.ListSchedules, Kind.Admin);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var list = new List<ScheduleRecord>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(ReadSchedule(reader, 0));
            }

            // Ordinal order by name (the server orders UTF-8 bytes, which differs from UTF-16 order for some characters).
            list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            return new SchedulesListResult(list);
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new SchedulesDeleteResult(await ExecuteAdminAsync(Sql.DeleteSchedule, c => c.AddName("@name", parameters.Name), cancellationToken)
            .ConfigureAwait(false) == 1);
    }

    public async ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var stored = await WriteScheduleAsync(Sql.AdvanceSchedule, command =>
        {
            command.AddName("@name", parameters.Name);
            command.Add("@expected_version", parameters.ExpectedVersion);
            command.AddTime("@last_run_at", parameters.LastRunAt);
            command.AddTime("@next_run_at", parameters.NextRunAt);
        }, cancellationToken).ConfigureAwait(false);
        return new SchedulesAdvanceResult(stored);
    }

    public async ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.DueSchedules, Kind.Hot);
            select.Add("@max", Math.Max(1, parameters.Max));
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var list = new List<ScheduleRecord>();
            DateTimeOffset now = default;
            DateTimeOffset? next = null;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                now = GetTime(reader, 0);
                next = GetTimeOrNull(reader, 1);
                if (!reader.IsDBNull(2) && list.Count < parameters.Max)
                {
                    list.Add(ReadSchedule(reader, 2));
                }
            }

            return new SchedulesDueResult(list, now, next);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static ScheduleRecord ReadSchedule(MySqlDataReader r, int o) => new()
    {
        Name = GetName(r, o),
        TaskName = GetName(r, o + 1),
        Cron = GetTextOrNull(r, o + 2),
        Interval = r.IsDBNull(o + 3) ? null : TimeSpan.FromTicks(r.GetInt64(o + 3)),
        TimeZone = GetTextOrNull(r, o + 4),
        Payload = r.IsDBNull(o + 5) ? null : r.GetFieldValue<byte[]>(o + 5),
        Paused = r.GetInt32(o + 6) != 0,
        NextRunAt = GetTimeOrNull(r, o + 7),
        LastRunAt = GetTimeOrNull(r, o + 8),
        Declared = r.GetInt32(o + 9) != 0,
        Version = r.GetInt64(o + 10),
    };

    // ---------------------------------------------------------------- transactional enqueue

    public async ValueTask<JobsInsertInTransactionResult> JobsInsertInTransactionAsync(JobsInsertInTransactionParams parameters,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Transaction is not MySqlTransaction transaction)
        {
            throw new ArgumentException(
                $"The Jobs role is on MySQL ({Server}, database '{Database}'), so the transaction must be a MySqlTransaction on that database, not a {parameters.Transaction.GetType().Name}.",
                nameof(parameters));
        }

        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has already completed.");
        var theirs = new MySqlConnectionStringBuilder(connection.ConnectionString);
        var theirServer = theirs.Server + ":" + theirs.Port.ToString(CultureInfo.InvariantCulture);
        if (!string.Equals(connection.Database, Database, StringComparison.OrdinalIgnoreCase) ||
            !string.Equals(theirServer, Server, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"The transaction is on the MySQL database '{connection.Database}' at {theirServer}, but the Jobs role is on '{Database}' at {Server}.",
                nameof(parameters));
        }

        foreach (var job in parameters.Jobs)
        {
            ArgumentNullException.ThrowIfNull(job);
        }

        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        if (parameters.Jobs.Count == 0)
        {
            return new JobsInsertInTransactionResult([], false);
        }

        var outcomes = await InsertAsync(connection, transaction, parameters.Jobs, cancellationToken).ConfigureAwait(false);
        var inserted = -1;
        for (var i = 0; i < outcomes.Length && inserted < 0; i++)
        {
            inserted = outcomes[i].Inserted ? i : -1;
        }

        // MySQL tells no client about another session's commit and MySqlConnector has no commit callback, but the rows this
        // transaction inserted stay locked until it ends: a locking read of one of them on another connection returns when
        // the caller commits (the row is there) or rolls back (it is not). A bounded number of such watchers run at once;
        // beyond that the commit is not observed, and workers find the jobs at their next poll.
        if (inserted < 0 || !commitWatchers.Wait(0))
        {
            return new JobsInsertInTransactionResult(outcomes, false);
        }

        var ready = AnyReady(parameters.Jobs, outcomes);
        _ = WatchCommitAsync(outcomes[inserted].Id, ready, parameters.AfterCommit);
        return new JobsInsertInTransactionResult(outcomes, true);
    }

    /// <summary>The most caller transactions whose commit is watched at once (each holds a pooled connection while it waits).</summary>
    internal const int MaxCommitWatchers = 16;

    /// <summary>How long a caller's transaction is watched before the store gives up on observing its commit.</summary>
    private static readonly TimeSpan CommitWatchLimit = TimeSpan.FromMinutes(10);

    private async Task WatchCommitAsync(JobId id, bool ready, Action? afterCommit)
    {
        try
        {
            var deadline = DateTime.UtcNow + CommitWatchLimit;
            while (true)
            {
                try
                {
                    await using var connection = await dataSource.OpenConnectionAsync(stopping.Token).ConfigureAwait(false);
                    await using var watch = connection.CreateCommand();
                    watch.CommandText = Sql.WatchCommit;
                    // The server's lock-wait timeout bounds each wait; the loop waits again until the limit.
                    watch.CommandTimeout = 0;
                    watch.AddGuid("@id", id.Value);
                    var committed = Convert.ToInt64(await watch.ExecuteScalarAsync(stopping.Token).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
                    if (committed)
                    {
                        if (ready)
                        {
                            signal.Set();
                        }

                        afterCommit?.Invoke();
                    }

                    return;
                }
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.LockWaitTimeout && DateTime.UtcNow < deadline)
                {
                    // Still open: wait again.
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (!stopping.IsCancellationRequested)
            {
                LogCommitWatchFailed(logger, ex, id);
            }
        }
        finally
        {
            commitWatchers.Release();
        }
    }
}
