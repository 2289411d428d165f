using System.Globalization;
using System.Text;
using MySqlConnector;
using static TypedJobs.Storage.MySql.Internal.MySqlRows;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>Administration of the jobs role: reads, operator actions, queues, workers, throughput and locks.</summary>
internal sealed partial class MySqlStorage
{
    public async ValueTask<JobsGetResult> JobsGetAsync(JobsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.SelectJob, Kind.Admin);
            select.AddGuid("@id", parameters.Id.Value);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return new JobsGetResult(await reader.ReadAsync(ct).ConfigureAwait(false) ? ReadJob(reader, out _) : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsLocateResult> JobsLocateAsync(JobsLocateParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Ids.Count == 0)
        {
            return new JobsLocateResult([]);
        }

        var ids = parameters.Ids.Distinct().ToArray();
        var found = await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, MySqlSql.Format(Sql.LocateJobs, MySqlSql.List("i", ids.Length)), Kind.Admin);
            for (var i = 0; i < ids.Length; i++)
            {
                select.AddGuid("@i" + N(i), ids[i].Value);
            }

            var queues = new Dictionary<JobId, string>();
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                queues[new JobId(GetGuid(reader, 0))] = GetName(reader, 1);
            }

            return queues;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsLocateResult(parameters.Ids.Where(found.ContainsKey).Select(id => new JobRef(id, found[id])).ToList());
    }

    public async ValueTask<JobsListResult> JobsListAsync(JobsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var limit = Math.Clamp(parameters.Limit, 1, 1000);
        var before = long.MaxValue;
        if (parameters.Cursor is { } cursor &&
            (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out before) || before <= 0))
        {
            throw new ArgumentException($"'{cursor}' is not a cursor returned by this store.", nameof(parameters));
        }

        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.ListJobs, Kind.Admin);
            select.Add("@before", before);
            AddFilter(select, parameters.Filter);
            select.Add("@limit", limit + 1);
            var jobs = new List<JobRecord>(Math.Min(limit + 1, 256));
            long lastSeq = 0;
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                if (jobs.Count == limit)
                {
                    return new JobsListResult(jobs, lastSeq.ToString(CultureInfo.InvariantCulture));
                }

                jobs.Add(ReadJob(reader, out lastSeq));
            }

            return new JobsListResult(jobs, null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsCountResult> JobsCountAsync(JobsCountParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.CountJobsMatching, Kind.Admin);
            AddFilter(select, parameters.Filter);
            return new JobsCountResult(Convert.ToInt64(await select.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture));
        }, cancellationToken).ConfigureAwait(false);
    }

    private static void AddFilter(MySqlCommand command, JobFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        command.AddName("@queue", filter.Queue);
        command.AddName("@task", filter.TaskName);
        command.Add("@state", filter.State is { } s ? (int)s : null);
        command.AddTime("@created_after", filter.CreatedAfter);
        command.AddTime("@created_before", filter.CreatedBefore);
        // Matched byte-wise against the payload and error with ASCII capitals folded on both sides (see MySqlSql.Fold).
        command.Add("@text", filter.Text is { Length: > 0 } text ? Encoding.UTF8.GetBytes(AsciiLower(text)) : null);
    }

    private static string AsciiLower(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = source[i] is >= 'A' and <= 'Z' ? (char)(source[i] + 32) : source[i];
        }
    });

    public async ValueTask<JobsCancelResult> JobsCancelAsync(JobsCancelParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            try
            {
                JobState previous;
                string task;
                int attempt;
                await using (var select = Command(connection, Begin + Sql.LockJobState, Kind.Admin))
                {
                    select.AddGuid("@id", parameters.Job.Id.Value);
                    select.AddName("@queue", parameters.Job.Queue);
                    await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        await reader.DisposeAsync().ConfigureAwait(false);
                        await CommitAsync(connection, ct).ConfigureAwait(false);
                        return new JobsCancelResult(false, false, default);
                    }

                    var state = reader.GetInt32(0);
                    previous = state == MySqlSql.Waiting ? (GetTime(reader, 1) > GetTime(reader, 4) ? JobState.Scheduled : JobState.Ready) : (JobState)state;
                    task = GetName(reader, 2);
                    attempt = reader.GetInt32(3);
                }

                if (previous.IsFinished())
                {
                    await CommitAsync(connection, ct).ConfigureAwait(false);
                    return new JobsCancelResult(true, false, previous, task, attempt);
                }

                await using var update = Command(connection, Sql.CancelJob + "; COMMIT", Kind.Admin);
                update.AddGuid("@id", parameters.Job.Id.Value);
                update.AddName("@queue", parameters.Job.Queue);
                await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return new JobsCancelResult(true, true, previous, task, attempt);
            }
            catch
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task CommitAsync(MySqlConnection connection, CancellationToken ct)
    {
        await using var commit = Command(connection, "COMMIT", Kind.Admin);
        await commit.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async ValueTask<JobsRetryResult> JobsRetryAsync(JobsRetryParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var retried = await ExecuteAdminAsync(Sql.RetryJob, c =>
        {
            c.AddGuid("@id", parameters.Job.Id.Value);
            c.AddName("@queue", parameters.Job.Queue);
        }, cancellationToken).ConfigureAwait(false) == 1;
        if (retried)
        {
            signal.Set();
        }

        return new JobsRetryResult(retried);
    }

    public async ValueTask<JobsDeleteResult> JobsDeleteAsync(JobsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new JobsDeleteResult(await ExecuteAdminAsync(Sql.DeleteJob, c =>
        {
            c.AddGuid("@id", parameters.Job.Id.Value);
            c.AddName("@queue", parameters.Job.Queue);
        }, cancellationToken).ConfigureAwait(false) == 1);
    }

    /// <summary>One autocommit statement under the admin timeout; returns the rows it changed.</summary>
    private Task<int> ExecuteAdminAsync(string sql, Action<MySqlCommand> bind, CancellationToken cancellationToken) =>
        RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var command = Command(connection, sql, Kind.Admin);
            bind(command);
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);

    public async ValueTask<JobsBulkResult> JobsBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken)
    {
        StorageRules.ValidateBulk(parameters);
        // Each call goes on in sequence order after the last job the previous one read, so no call reads (and locks) again
        // what one before read.
        var after = 0L;
        if (parameters.Cursor is { } cursor && !long.TryParse(cursor, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out after))
        {
            throw new ArgumentException($"'{cursor}' is not a bulk cursor of this store.", nameof(parameters));
        }

        var last = after;
        var changed = await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            try
            {
                var found = new List<(long Seq, JobsBulkItem Item)>();
                await using (var select = Command(connection, Begin + Sql.BulkCandidates, Kind.Admin))
                {
                    select.Add("@after", after);
                    select.Add("@action", (int)parameters.Action);
                    AddFilter(select, parameters.Filter);
                    select.Add("@limit", parameters.Max);
                    await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        found.Add((reader.GetInt64(0), new JobsBulkItem(new JobRef(new JobId(GetGuid(reader, 1)), GetName(reader, 2)), GetName(reader, 3),
                            (JobState)reader.GetInt32(4), reader.GetInt32(5))));
                    }
                }

                if (found.Count == 0)
                {
                    await CommitAsync(connection, ct).ConfigureAwait(false);
                    return [];
                }

                // The candidates are locked by this transaction, so the action changes exactly them.
                var template = parameters.Action switch
                {
                    JobsBulkAction.Retry => Sql.BulkRetry,
                    JobsBulkAction.Cancel => Sql.BulkCancel,
                    _ => Sql.BulkDelete,
                };
                await using var apply = Command(connection, MySqlSql.Format(template, MySqlSql.List("s", found.Count)) + "; COMMIT", Kind.Admin);
                for (var i = 0; i < found.Count; i++)
                {
                    apply.Add("@s" + N(i), found[i].Seq);
                }

                await apply.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                last = found[^1].Seq;
                return found.Select(f => f.Item).ToList();
            }
            catch
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (parameters.Action == JobsBulkAction.Retry && changed.Count > 0)
        {
            signal.Set();
        }

        return new JobsBulkResult(changed) { NextCursor = last.ToString(System.Globalization.CultureInfo.InvariantCulture) };
    }

    /// <summary>
    /// A test seam: runs between a prune's read of the jobs to delete and their deletion, so a test can change one of them
    /// in between (the deletion checks again that each is still finished and old enough).
    /// </summary>
    internal Func<Task>? BetweenPruneReadAndDelete { get; set; }

    public async ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var states = parameters.States.Where(s => s.IsFinished()).Select(s => (int)s).Distinct().ToArray();
        if (states.Length == 0 || parameters.Max <= 0)
        {
            return new JobsPruneResult(0);
        }

        // Each state's oldest jobs (MySqlSql.PruneCandidates, one index range a state), merged oldest first across the states
        // up to the call's maximum, so a state with a large backlog does not hold back the others' pruning. Each DELETE
        // commits on its own: the count is kept across a retry of the whole body after a transient error.
        var deleted = 0;
        return new JobsPruneResult(await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            var candidates = new List<(long Seq, DateTime FinishedAt, int State)>();
            foreach (var state in states)
            {
                await using var select = Command(connection, Sql.PruneCandidates, Kind.Admin);
                select.Add("@st", state);
                select.AddMicroseconds("@age", parameters.OlderThan);
                select.Add("@max", parameters.Max - deleted);
                await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    candidates.Add((reader.GetInt64(0), reader.GetDateTime(1), state));
                }
            }

            candidates.Sort(static (a, b) => a.FinishedAt != b.FinishedAt ? a.FinishedAt.CompareTo(b.FinishedAt) : a.Seq.CompareTo(b.Seq));
            if (candidates.Count > parameters.Max - deleted)
            {
                candidates.RemoveRange(parameters.Max - deleted, candidates.Count - (parameters.Max - deleted));
            }

            if (BetweenPruneReadAndDelete is { } pause)
            {
                await pause().ConfigureAwait(false);
            }

            foreach (var group in candidates.GroupBy(c => c.State))
            {
                var seqs = group.Select(c => c.Seq).ToList();
                await using var delete = Command(connection, MySqlSql.Format(Sql.PruneByKey, MySqlSql.List("s", seqs.Count)), Kind.Admin);
                for (var i = 0; i < seqs.Count; i++)
                {
                    delete.Add("@s" + N(i), seqs[i]);
                }

                delete.Add("@st", group.Key);
                delete.AddMicroseconds("@age", parameters.OlderThan);
                deleted += await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return deleted;
        }, cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask<QueuesListResult> QueuesListAsync(QueuesListParams parameters, CancellationToken cancellationToken) =>
        await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            var counts = new Dictionary<string, long[]>(StringComparer.Ordinal);
            var paused = new HashSet<string>(StringComparer.Ordinal);
            // One batch in one consistent snapshot, so counts and pause flags agree.
            await using var select = Command(connection,
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; START TRANSACTION WITH CONSISTENT SNAPSHOT; " + Sql.CountJobs + "; " +
                Sql.SelectPausedQueues + "; COMMIT", Kind.Admin);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var queue = GetName(reader, 0);
                var state = reader.GetInt32(1);
                if (!counts.TryGetValue(queue, out var perState))
                {
                    counts[queue] = perState = new long[JobStates.All.Count];
                }

                if (state >= 0 && state < perState.Length)
                {
                    perState[state] += reader.GetInt64(2);
                }
            }

            await reader.NextResultAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                paused.Add(GetName(reader, 0));
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
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<QueuesPauseResult> QueuesPauseAsync(QueuesPauseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        await ExecuteAdminAsync(Sql.PauseQueue, c => c.AddName("@queue", parameters.Queue), cancellationToken).ConfigureAwait(false);
        return new QueuesPauseResult();
    }

    public async ValueTask<QueuesResumeResult> QueuesResumeAsync(QueuesResumeParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        await ExecuteAdminAsync(Sql.ResumeQueue, c => c.AddName("@queue", parameters.Queue), cancellationToken).ConfigureAwait(false);
        signal.Set();
        return new QueuesResumeResult();
    }

    public async ValueTask<QueuesClearResult> QueuesClearAsync(QueuesClearParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        return new QueuesClearResult(await ExecuteAdminAsync(Sql.ClearQueue, c => c.AddName("@queue", parameters.Queue), cancellationToken)
            .ConfigureAwait(false));
    }

    public async ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var json = StorageRules.SerializeWorker(parameters.Worker);
        return await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var command = Command(connection, Sql.HeartbeatWorker, Kind.Hot);
            command.AddName("@id", parameters.Worker.Id);
            command.Add("@registration", json);
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            return new WorkersHeartbeatResult(GetTime(reader, 0));
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<WorkersListResult> WorkersListAsync(WorkersListParams parameters, CancellationToken cancellationToken) =>
        await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.ListWorkers, Kind.Admin);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var workers = new List<WorkerInfo>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                workers.Add(new WorkerInfo
                {
                    Registration = StorageRules.DeserializeWorker(reader.GetString(0)),
                    StartedAt = GetTime(reader, 1),
                    LastHeartbeatAt = GetTime(reader, 2),
                });
            }

            await reader.NextResultAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            var now = GetTime(reader, 0);
            workers.Sort(static (a, b) => string.CompareOrdinal(a.Registration.Id, b.Registration.Id));
            return new WorkersListResult(workers, now);
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new WorkersRemoveResult(await ExecuteAdminAsync(Sql.RemoveWorker, c => c.AddName("@id", parameters.WorkerId), cancellationToken)
            .ConfigureAwait(false) == 1);
    }

    public async ValueTask<WorkersPruneResult> WorkersPruneAsync(WorkersPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new WorkersPruneResult(await ExecuteAdminAsync(Sql.PruneWorkers, c => c.AddMicroseconds("@age", parameters.OlderThan), cancellationToken)
            .ConfigureAwait(false));
    }

    public async ValueTask<StatsThroughputResult> StatsThroughputAsync(StatsThroughputParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            await using var select = Command(connection, Sql.SelectThroughputRows, Kind.Admin);
            select.Add("@span", (int)Math.Ceiling(Math.Min(parameters.Window.TotalMinutes, StorageRules.MaxThroughputWindow.TotalMinutes)) + 2);
            await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            var minutes = StorageRules.ThroughputMinutes(GetTime(reader, 0), parameters.Window);
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            var counts = new Dictionary<DateTimeOffset, (long, long)>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                counts[GetTime(reader, 0)] = (Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture),
                    Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
            }

            var buckets = minutes.Select(m => counts.TryGetValue(m, out var c)
                ? new ThroughputBucket(m, c.Item1, c.Item2)
                : new ThroughputBucket(m, 0, 0)).ToList();
            return new StatsThroughputResult(buckets);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StatsPruneResult> StatsPruneAsync(StatsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var before = StorageRules.MinuteOf(await ClockNowAsync(cancellationToken).ConfigureAwait(false) - parameters.OlderThan);
        return await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            // Count minutes, not shard rows.
            await using var command = Command(connection,
                Sql.SelectThroughputMinutesBefore + "; " + Sql.PruneThroughput, Kind.Admin);
            command.AddTime("@before", before);
            var minutes = Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            return new StatsPruneResult(minutes);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<LocksAcquireResult> LocksAcquireAsync(LocksAcquireParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            // In one transaction, so the read after the upsert sees its own outcome.
            await using var command = Command(connection, Begin + Sql.AcquireLock + "; COMMIT", Kind.Hot);
            command.AddName("@name", parameters.Name);
            command.AddName("@owner", parameters.Owner);
            command.AddMicroseconds("@ttl", parameters.Ttl);
            try
            {
                var result = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
                return new LocksAcquireResult(Convert.ToInt64(result, CultureInfo.InvariantCulture) == 1);
            }
            catch
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<LocksReleaseResult> LocksReleaseAsync(LocksReleaseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var command = Command(connection, Begin + Sql.ReleaseLock + "; COMMIT", Kind.Hot);
            command.AddName("@name", parameters.Name);
            command.AddName("@owner", parameters.Owner);
            try
            {
                var result = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
                return new LocksReleaseResult(result is not null and not DBNull && Convert.ToInt64(result, CultureInfo.InvariantCulture) == 1);
            }
            catch
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
    }
}
