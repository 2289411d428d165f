using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using static TypedJobs.Storage.Postgres.Internal.PostgresRows;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>Administration of the jobs role: reads, operator actions, queues, workers, throughput and locks.</summary>
internal sealed partial class PostgresStorage
{
    public async ValueTask<JobsGetResult> JobsGetAsync(JobsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.SelectJob, bulkTimeout, c => c.Add("id", parameters.Id.Value), static r => ReadJob(r, out _), cancellationToken)
            .ConfigureAwait(false);
        return new JobsGetResult(rows.Count == 0 ? null : rows[0]);
    }

    public async ValueTask<JobsLocateResult> JobsLocateAsync(JobsLocateParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Ids.Count == 0)
        {
            return new JobsLocateResult([]);
        }

        var rows = await QueryAsync(Sql.LocateJobs, bulkTimeout, c => c.Add("ids", parameters.Ids.Select(i => i.Value).ToArray()),
            static r => new JobRef(new JobId(r.GetGuid(0)), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        var byId = rows.ToDictionary(r => r.Id);
        return new JobsLocateResult(parameters.Ids.Where(byId.ContainsKey).Select(id => byId[id]).ToList());
    }

    public async ValueTask<JobsListResult> JobsListAsync(JobsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var limit = Math.Clamp(parameters.Limit, 1, 1000);
        var rows = await QueryAsync(Sql.ListJobs, bulkTimeout, c => BindList(c.Parameters, parameters, limit),
            static r => ReadJob(r, out _), cancellationToken).ConfigureAwait(false);
        return rows.Count > limit
            ? new JobsListResult(rows.Take(limit).ToList(), rows[limit - 1].Id.Value.ToString("N", CultureInfo.InvariantCulture))
            : new JobsListResult(rows, null);
    }

    /// <summary>The plan the server runs for <see cref="JobsListAsync"/> (<c>EXPLAIN ANALYZE</c>), for the tests of its indexes.</summary>
    internal async Task<string> ExplainJobsListAsync(JobsListParams parameters, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(parameters.Limit, 1, 1000);
        var rows = await QueryAsync("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + Sql.ListJobs, bulkTimeout, c => BindList(c.Parameters, parameters, limit),
            static r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        return string.Join('\n', rows);
    }

    private static readonly Guid LastId = new("ffffffff-ffff-ffff-ffff-ffffffffffff");

    private static void BindList(NpgsqlParameterCollection command, JobsListParams parameters, int limit)
    {
        // Newest first by id (time-ordered UUIDs, compared bytewise by the server); a page ends at the last id it returned.
        var before = LastId;
        if (parameters.Cursor is { } cursor && !Guid.TryParseExact(cursor, "N", out before))
        {
            throw new ArgumentException($"'{cursor}' is not a cursor returned by this store.", nameof(parameters));
        }

        command.Add(new NpgsqlParameter<Guid>("before", before));
        AddFilter(command, parameters.Filter);
        command.Add(new NpgsqlParameter<int>("limit", limit + 1));
    }

    public async ValueTask<JobsCountResult> JobsCountAsync(JobsCountParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.CountJobsMatching, bulkTimeout, c => AddFilter(c.Parameters, parameters.Filter), static r => r.GetInt64(0),
            cancellationToken).ConfigureAwait(false);
        return new JobsCountResult(rows[0]);
    }

    private static void AddFilter(NpgsqlParameterCollection parameters, JobFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        parameters.AddNullable("f_queue", filter.Queue, NpgsqlDbType.Text);
        parameters.AddNullable("f_task", filter.TaskName, NpgsqlDbType.Text);
        parameters.AddNullable("f_state", filter.State is { } s ? (int)s : null, NpgsqlDbType.Integer);
        parameters.AddNullable("f_created_after", filter.CreatedAfter is { } after ? Utc(after) : null, NpgsqlDbType.TimestampTz);
        parameters.AddNullable("f_created_before", filter.CreatedBefore is { } createdBefore ? Utc(createdBefore) : null, NpgsqlDbType.TimestampTz);
        var text = filter.Text is { Length: > 0 } t ? t : null;
        parameters.AddNullable("f_text", text is null ? null : Text(AsciiLower(text)), NpgsqlDbType.Text);
        parameters.AddNullable("f_text_pattern", text is null ? null : PayloadPattern(text), NpgsqlDbType.Text);
    }

    public async ValueTask<JobsCancelResult> JobsCancelAsync(JobsCancelParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.CancelJob, hotTimeout, c =>
        {
            c.Add("id", parameters.Job.Id.Value);
            c.Add("queue", parameters.Job.Queue);
        }, static r => (State: (JobState)r.GetInt32(0), Task: r.GetString(1), Attempt: r.GetInt32(2), Cancelled: r.GetBoolean(3)), cancellationToken)
            .ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return new JobsCancelResult(false, false, default);
        }

        var row = rows[0];
        return new JobsCancelResult(true, row.Cancelled, row.State, row.Task, row.Attempt);
    }

    public async ValueTask<JobsRetryResult> JobsRetryAsync(JobsRetryParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var retried = await ExecuteAsync(Sql.RetryJob, hotTimeout, c =>
        {
            c.Add("id", parameters.Job.Id.Value);
            c.Add("queue", parameters.Job.Queue);
        }, cancellationToken).ConfigureAwait(false) == 1;
        if (retried)
        {
            signal.Set();
            NotifyOthers();
        }

        return new JobsRetryResult(retried);
    }

    public async ValueTask<JobsDeleteResult> JobsDeleteAsync(JobsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var deleted = await ExecuteAsync(Sql.DeleteJob, hotTimeout, c =>
        {
            c.Add("id", parameters.Job.Id.Value);
            c.Add("queue", parameters.Job.Queue);
        }, cancellationToken).ConfigureAwait(false);
        return new JobsDeleteResult(deleted == 1);
    }

    public async ValueTask<JobsBulkResult> JobsBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken)
    {
        StorageRules.ValidateBulk(parameters);
        var changed = await QueryAsync(BulkSql(parameters), bulkTimeout, c => BindBulk(c, parameters), static r => new JobsBulkItem(new JobRef(new JobId(r.GetGuid(0)), r.GetString(1)), r.GetString(2), (JobState)r.GetInt32(3), r.GetInt32(4)),
            cancellationToken).ConfigureAwait(false);
        if (parameters.Action == JobsBulkAction.Retry && changed.Count > 0)
        {
            signal.Set();
            NotifyOthers();
        }

        // The rows come ordered by id: the last is where the next call goes on.
        return new JobsBulkResult(changed) { NextCursor = changed.Count > 0 ? changed[^1].Job.Id.Value.ToString("N") : parameters.Cursor };
    }

    public async ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (PruneStates(parameters).Length == 0 || parameters.Max <= 0)
        {
            return new JobsPruneResult(0);
        }

        return new JobsPruneResult(await ExecuteAsync(Sql.PruneJobs, bulkTimeout, c => BindPrune(c, parameters), cancellationToken).ConfigureAwait(false));
    }

    private static short[] PruneStates(JobsPruneParams parameters) =>
        parameters.States.Where(s => s.IsFinished()).Select(s => (short)s).Distinct().ToArray();

    private static void BindPrune(NpgsqlCommand command, JobsPruneParams parameters)
    {
        command.Add("states", PruneStates(parameters));
        command.Add("older_us", Micros(parameters.OlderThan));
        command.Add("max", parameters.Max);
    }

    private string BulkSql(JobsBulkParams parameters) => parameters.Action switch
    {
        JobsBulkAction.Retry => Sql.BulkRetry,
        JobsBulkAction.Cancel => Sql.BulkCancel,
        _ => Sql.BulkDelete,
    };

    private static void BindBulk(NpgsqlCommand command, JobsBulkParams parameters)
    {
        // Each call goes on by id after the last job the previous one changed, so no call reads again what one before read.
        Guid? after = null;
        if (parameters.Cursor is { } cursor)
        {
            after = Guid.TryParseExact(cursor, "N", out var id) ? id : throw new ArgumentException($"'{cursor}' is not a bulk cursor of this store.", nameof(parameters));
        }

        AddFilter(command.Parameters, parameters.Filter);
        command.Add("limit", parameters.Max);
        command.Parameters.AddNullable("after", after, NpgsqlDbType.Uuid);
    }

    /// <summary>The plan of a bulk action as it runs (EXPLAIN ANALYZE), rolled back afterwards: for tests.</summary>
    internal Task<string> ExplainBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken) =>
        ExplainAsync(BulkSql(parameters), c => BindBulk(c, parameters), cancellationToken);

    /// <summary>The plan of a prune as it runs (EXPLAIN ANALYZE), rolled back afterwards: for tests.</summary>
    internal Task<string> ExplainPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken) =>
        ExplainAsync(Sql.PruneJobs, c => BindPrune(c, parameters), cancellationToken);

    public async ValueTask<QueuesListResult> QueuesListAsync(QueuesListParams parameters, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(Sql.QueueCounts, bulkTimeout, static _ => { },
            static r => (Queue: r.GetString(0), State: r.GetInt32(1), Count: r.GetInt64(2)), cancellationToken).ConfigureAwait(false);
        var counts = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var paused = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (queue, state, count) in rows)
        {
            if (state < 0)
            {
                paused.Add(queue);
                continue;
            }

            if (!counts.TryGetValue(queue, out var perState))
            {
                counts[queue] = perState = new long[JobStates.All.Count];
            }

            if (state < perState.Length)
            {
                perState[state] += count;
            }
        }

        IReadOnlyList<QueueInfo> list = counts.Keys.Union(paused, StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(name =>
            {
                var perState = counts.GetValueOrDefault(name) ?? new long[JobStates.All.Count];
                return new QueueInfo
                {
                    Name = name,
                    Paused = paused.Contains(name),
                    Counts = JobStates.All.ToDictionary(s => s, s => perState[(int)s]),
                };
            })
            .ToList();
        return new QueuesListResult(list);
    }

    public async ValueTask<QueuesPauseResult> QueuesPauseAsync(QueuesPauseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        await ExecuteAsync(Sql.PauseQueue, hotTimeout, c => c.Add("queue", parameters.Queue), cancellationToken).ConfigureAwait(false);
        return new QueuesPauseResult();
    }

    public async ValueTask<QueuesResumeResult> QueuesResumeAsync(QueuesResumeParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        await ExecuteAsync(Sql.ResumeQueue, hotTimeout, c => c.Add("queue", parameters.Queue), cancellationToken).ConfigureAwait(false);
        signal.Set();
        NotifyOthers();
        return new QueuesResumeResult();
    }

    public async ValueTask<QueuesClearResult> QueuesClearAsync(QueuesClearParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        return new QueuesClearResult(await ExecuteAsync(Sql.ClearQueue, bulkTimeout, c => c.Add("queue", parameters.Queue), cancellationToken)
            .ConfigureAwait(false));
    }

    public async ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var json = StorageRules.SerializeWorker(parameters.Worker);
        var rows = await QueryAsync(Sql.HeartbeatWorker, hotTimeout, c =>
        {
            c.Add("id", parameters.Worker.Id);
            c.Add("registration", json);
        }, static r => Time(r, 0), cancellationToken).ConfigureAwait(false);
        return new WorkersHeartbeatResult(rows[0]);
    }

    public async ValueTask<WorkersListResult> WorkersListAsync(WorkersListParams parameters, CancellationToken cancellationToken)
    {
        var workers = await QueryAsync(Sql.ListWorkers, bulkTimeout, static _ => { }, static r => new WorkerInfo
        {
            Registration = StorageRules.DeserializeWorker(r.GetString(0)),
            StartedAt = Time(r, 1),
            LastHeartbeatAt = Time(r, 2),
        }, cancellationToken).ConfigureAwait(false);
        workers.Sort(static (a, b) => string.CompareOrdinal(a.Registration.Id, b.Registration.Id));
        return new WorkersListResult(workers, await ClockNowAsync(cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new WorkersRemoveResult(await ExecuteAsync(Sql.RemoveWorker, hotTimeout, c => c.Add("id", parameters.WorkerId), cancellationToken)
            .ConfigureAwait(false) == 1);
    }

    public async ValueTask<WorkersPruneResult> WorkersPruneAsync(WorkersPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new WorkersPruneResult(await ExecuteAsync(Sql.PruneWorkers, bulkTimeout, c => c.Add("older_us", Micros(parameters.OlderThan)),
            cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask<StatsThroughputResult> StatsThroughputAsync(StatsThroughputParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var minutes = StorageRules.ThroughputMinutes(await ClockNowAsync(cancellationToken).ConfigureAwait(false), parameters.Window);
        var rows = await QueryAsync(Sql.SelectThroughput, bulkTimeout, c => c.Add("from", Utc(minutes[0])),
            static r => (Minute: Time(r, 0), Succeeded: r.GetInt64(1), Failed: r.GetInt64(2)), cancellationToken).ConfigureAwait(false);
        var counts = rows.ToDictionary(r => r.Minute.UtcTicks);
        return new StatsThroughputResult(minutes.Select(m => counts.TryGetValue(m.UtcTicks, out var c)
            ? new ThroughputBucket(m, c.Succeeded, c.Failed)
            : new ThroughputBucket(m, 0, 0)).ToList());
    }

    public async ValueTask<StatsPruneResult> StatsPruneAsync(StatsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.PruneThroughput, bulkTimeout, c => c.Add("older_us", Micros(parameters.OlderThan)), static r => r.GetInt64(0),
            cancellationToken).ConfigureAwait(false);
        return new StatsPruneResult((int)rows[0]);
    }

    public async ValueTask<LocksAcquireResult> LocksAcquireAsync(LocksAcquireParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.AcquireLock, hotTimeout, c =>
        {
            c.Add("name", parameters.Name);
            c.Add("owner", parameters.Owner);
            c.Add("ttl_us", Micros(parameters.Ttl));
        }, static _ => true, cancellationToken).ConfigureAwait(false);
        return new LocksAcquireResult(rows.Count == 1);
    }

    public async ValueTask<LocksReleaseResult> LocksReleaseAsync(LocksReleaseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rows = await QueryAsync(Sql.ReleaseLock, hotTimeout, c =>
        {
            c.Add("name", parameters.Name);
            c.Add("owner", parameters.Owner);
        }, static r => r.GetBoolean(0), cancellationToken).ConfigureAwait(false);
        return new LocksReleaseResult(rows.Count == 1 && rows[0]);
    }
}
