using System.Globalization;
using Microsoft.Data.Sqlite;
using static TypedJobs.Storage.Sqlite.Internal.SqliteJobs;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>Administration of the jobs role: reads, operator actions, queues, workers, throughput and locks.</summary>
internal sealed partial class SqliteStorage
{
    public async ValueTask<JobsGetResult> JobsGetAsync(JobsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.SelectJob;
            select.Add("@id", parameters.Id.Value);
            using var reader = select.ExecuteReader();
            return new JobsGetResult(reader.Read() ? ReadJob(reader, NowTicks(), out _) : null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsLocateResult> JobsLocateAsync(JobsLocateParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.LocateJob;
            var id = select.Parameters.Add("@id", SqliteType.Blob);
            var found = new List<JobRef>(parameters.Ids.Count);
            foreach (var job in parameters.Ids)
            {
                id.Value = job.Value.ToByteArray();
                if (select.ExecuteScalar() is string queue)
                {
                    found.Add(new JobRef(job, queue));
                }
            }

            return new JobsLocateResult(found);
        }, cancellationToken).ConfigureAwait(false);
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

        return await ReadAsync(connection =>
        {
            var now = NowTicks();
            using var select = connection.CreateCommand();
            select.CommandText = Sql.ListJobs;
            select.Add("@before", before);
            AddFilter(select, parameters.Filter, now);
            select.Add("@limit", limit + 1);
            var jobs = new List<JobRecord>(Math.Min(limit + 1, 256));
            long lastSeq = 0;
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                if (jobs.Count == limit)
                {
                    return new JobsListResult(jobs, lastSeq.ToString(CultureInfo.InvariantCulture));
                }

                jobs.Add(ReadJob(reader, now, out lastSeq));
            }

            return new JobsListResult(jobs, null);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsCountResult> JobsCountAsync(JobsCountParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.CountJobsMatching;
            AddFilter(select, parameters.Filter, NowTicks());
            return new JobsCountResult((long)select.ExecuteScalar()!);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static void AddFilter(SqliteCommand command, JobFilter filter, long now)
    {
        ArgumentNullException.ThrowIfNull(filter);
        command.Add("@queue", filter.Queue);
        command.Add("@task", filter.TaskName);
        command.Add("@state", filter.State is { } s ? (int)s : null);
        command.Add("@created_after", filter.CreatedAfter is { } after ? Ticks(after) : null);
        command.Add("@created_before", filter.CreatedBefore is { } createdBefore ? Ticks(createdBefore) : null);
        // SQLite's lower() folds ASCII letters only, which is the contract's rule for text search.
        command.Add("@text", filter.Text is { Length: > 0 } text ? AsciiLower(text) : null);
        command.Add("@now", now);
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
        return await WriteAsync(ctx =>
        {
            var now = NowTicks();
            var select = ctx.Command(Sql.SelectJobState);
            select.Add("@id", parameters.Job.Id.Value);
            select.Add("@queue", parameters.Job.Queue);
            JobState previous;
            string task;
            int attempt;
            using (var reader = select.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return new JobsCancelResult(false, false, default);
                }

                var state = reader.GetInt32(0);
                previous = state == SqliteSql.Waiting ? (reader.GetInt64(1) > now ? JobState.Scheduled : JobState.Ready) : (JobState)state;
                task = reader.GetString(2);
                attempt = reader.GetInt32(3);
            }

            if (previous.IsFinished())
            {
                return new JobsCancelResult(true, false, previous, task, attempt);
            }

            var update = ctx.Command(Sql.CancelJob);
            update.Add("@id", parameters.Job.Id.Value);
            update.Add("@queue", parameters.Job.Queue);
            update.Add("@now", now);
            return new JobsCancelResult(true, update.ExecuteNonQuery() == 1, previous, task, attempt);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsRetryResult> JobsRetryAsync(JobsRetryParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var update = ctx.Command(Sql.RetryJob);
            update.Add("@id", parameters.Job.Id.Value);
            update.Add("@queue", parameters.Job.Queue);
            update.Add("@now", NowTicks());
            var retried = update.ExecuteNonQuery() == 1;
            ctx.Wake |= retried;
            return new JobsRetryResult(retried);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsDeleteResult> JobsDeleteAsync(JobsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var delete = ctx.Command(Sql.DeleteJob);
            delete.Add("@id", parameters.Job.Id.Value);
            delete.Add("@queue", parameters.Job.Queue);
            return new JobsDeleteResult(delete.ExecuteNonQuery() == 1);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsBulkResult> JobsBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken)
    {
        StorageRules.ValidateBulk(parameters);
        var delete = parameters.Action == JobsBulkAction.Delete;
        var after = long.MinValue;
        if (delete && parameters.Cursor is { } cursor && !long.TryParse(cursor, NumberStyles.Integer, CultureInfo.InvariantCulture, out after))
        {
            throw new ArgumentException($"'{cursor}' is not a bulk cursor of this store.", nameof(parameters));
        }

        return await WriteAsync(ctx =>
        {
            var now = NowTicks();
            var select = ctx.Command(parameters.Action switch
            {
                JobsBulkAction.Retry => Sql.BulkRetryCandidates,
                JobsBulkAction.Cancel => Sql.BulkCancelCandidates,
                _ => Sql.BulkDeleteCandidates,
            });
            AddFilter(select, parameters.Filter, now);
            select.Add("@limit", parameters.Max);
            if (delete)
            {
                select.Add("@after", after);
            }

            var seqs = new List<long>();
            var before = new Dictionary<long, (JobState State, int Attempt)>();
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    seqs.Add(reader.GetInt64(0));
                    before[reader.GetInt64(0)] = ((JobState)reader.GetInt32(1), reader.GetInt32(2));
                }
            }

            if (seqs.Count == 0)
            {
                return new JobsBulkResult([]) { NextCursor = parameters.Cursor };
            }

            var apply = ctx.Command(parameters.Action switch
            {
                JobsBulkAction.Retry => Sql.BulkRetry,
                JobsBulkAction.Cancel => Sql.BulkCancel,
                _ => Sql.BulkDelete,
            });
            apply.Add("@seqs", JsonArray(seqs));
            if (parameters.Action != JobsBulkAction.Delete)
            {
                apply.Add("@now", now);
            }

            var changed = new List<JobsBulkItem>(seqs.Count);
            using (var reader = apply.ExecuteReader())
            {
                while (reader.Read())
                {
                    // The same write transaction read the candidates, so their state and attempts are the ones before.
                    var (state, attempt) = before[reader.GetInt64(0)];
                    changed.Add(new JobsBulkItem(new JobRef(new JobId(reader.GetGuid(1)), reader.GetString(2)), reader.GetString(3), state, attempt));
                }
            }

            ctx.Wake |= parameters.Action == JobsBulkAction.Retry && changed.Count > 0;
            // Retried and cancelled jobs leave the indexes those actions read; a delete goes on after the last job it read.
            return new JobsBulkResult(changed) { NextCursor = delete ? seqs[^1].ToString(CultureInfo.InvariantCulture) : null };
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var states = parameters.States.Where(s => s.IsFinished()).Select(s => (long)s).Distinct().ToArray();
        if (states.Length == 0 || parameters.Max <= 0)
        {
            return new JobsPruneResult(0);
        }

        return await WriteAsync(ctx =>
        {
            var delete = ctx.Command(Sql.PruneJobs);
            foreach (var state in (ReadOnlySpan<JobState>)[JobState.Succeeded, JobState.Dead, JobState.Cancelled])
            {
                delete.Add("@prune_" + ((int)state).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Array.IndexOf(states, (long)state) >= 0 ? 1 : 0);
            }

            delete.Add("@before", Ticks(time.GetUtcNow() - parameters.OlderThan));
            delete.Add("@max", parameters.Max);
            return new JobsPruneResult(delete.ExecuteNonQuery());
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<QueuesListResult> QueuesListAsync(QueuesListParams parameters, CancellationToken cancellationToken) =>
        await ReadAsync(connection =>
        {
            var counts = new Dictionary<string, long[]>(StringComparer.Ordinal);
            var paused = new HashSet<string>(StringComparer.Ordinal);
            // One read transaction, so counts and pause flags come from the same snapshot.
            using var transaction = connection.BeginTransaction(deferred: true);
            using (var select = connection.CreateCommand())
            {
                select.Transaction = transaction;
                select.CommandText = Sql.CountJobs;
                select.Add("@now", NowTicks());
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    var queue = reader.GetString(0);
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
            }

            using (var select = connection.CreateCommand())
            {
                select.Transaction = transaction;
                select.CommandText = Sql.SelectPausedQueues;
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    paused.Add(reader.GetString(0));
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
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<QueuesPauseResult> QueuesPauseAsync(QueuesPauseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.PauseQueue);
            command.Add("@queue", parameters.Queue);
            command.ExecuteNonQuery();
            return new QueuesPauseResult();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<QueuesResumeResult> QueuesResumeAsync(QueuesResumeParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.ResumeQueue);
            command.Add("@queue", parameters.Queue);
            command.ExecuteNonQuery();
            ctx.Wake = true;
            return new QueuesResumeResult();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<QueuesClearResult> QueuesClearAsync(QueuesClearParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.ClearQueue);
            command.Add("@queue", parameters.Queue);
            return new QueuesClearResult(command.ExecuteNonQuery());
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var json = StorageRules.SerializeWorker(parameters.Worker);
        return await WriteAsync(ctx =>
        {
            var now = time.GetUtcNow();
            var command = ctx.Command(Sql.HeartbeatWorker);
            command.Add("@id", parameters.Worker.Id);
            command.Add("@registration", json);
            command.Add("@now", Ticks(now));
            command.ExecuteNonQuery();
            return new WorkersHeartbeatResult(now);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<WorkersListResult> WorkersListAsync(WorkersListParams parameters, CancellationToken cancellationToken) =>
        await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.ListWorkers;
            using var reader = select.ExecuteReader();
            var workers = new List<WorkerInfo>();
            while (reader.Read())
            {
                workers.Add(new WorkerInfo
                {
                    Registration = StorageRules.DeserializeWorker(reader.GetString(0)),
                    StartedAt = Time(reader.GetInt64(1)),
                    LastHeartbeatAt = Time(reader.GetInt64(2)),
                });
            }

            workers.Sort(static (a, b) => string.CompareOrdinal(a.Registration.Id, b.Registration.Id));
            return new WorkersListResult(workers, time.GetUtcNow());
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.RemoveWorker);
            command.Add("@id", parameters.WorkerId);
            return new WorkersRemoveResult(command.ExecuteNonQuery() == 1);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<WorkersPruneResult> WorkersPruneAsync(WorkersPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.PruneWorkers);
            command.Add("@before", Ticks(time.GetUtcNow() - parameters.OlderThan));
            return new WorkersPruneResult(command.ExecuteNonQuery());
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StatsThroughputResult> StatsThroughputAsync(StatsThroughputParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await ReadAsync(connection =>
        {
            var minutes = StorageRules.ThroughputMinutes(time.GetUtcNow(), parameters.Window);
            using var select = connection.CreateCommand();
            select.CommandText = Sql.SelectThroughput;
            select.Add("@from", Ticks(minutes[0]));
            var counts = new Dictionary<long, (long, long)>();
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    counts[reader.GetInt64(0)] = (reader.GetInt64(1), reader.GetInt64(2));
                }
            }

            var buckets = minutes.Select(m => counts.TryGetValue(Ticks(m), out var c)
                ? new ThroughputBucket(m, c.Item1, c.Item2)
                : new ThroughputBucket(m, 0, 0)).ToList();
            return new StatsThroughputResult(buckets);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StatsPruneResult> StatsPruneAsync(StatsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.PruneThroughput);
            command.Add("@before", Ticks(StorageRules.MinuteOf(time.GetUtcNow() - parameters.OlderThan)));
            return new StatsPruneResult(command.ExecuteNonQuery());
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<LocksAcquireResult> LocksAcquireAsync(LocksAcquireParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var now = time.GetUtcNow();
            var command = ctx.Command(Sql.AcquireLock);
            command.Add("@name", parameters.Name);
            command.Add("@owner", parameters.Owner);
            command.Add("@expires_at", Ticks(now + parameters.Ttl));
            command.Add("@now", Ticks(now));
            return new LocksAcquireResult(command.ExecuteNonQuery() == 1);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<LocksReleaseResult> LocksReleaseAsync(LocksReleaseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.ReleaseLock);
            command.Add("@name", parameters.Name);
            command.Add("@owner", parameters.Owner);
            return new LocksReleaseResult(command.ExecuteScalar() is long expires && expires > NowTicks());
        }, cancellationToken).ConfigureAwait(false);
    }
}
