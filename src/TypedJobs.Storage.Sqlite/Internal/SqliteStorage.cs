using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedJobs.Events;
using static TypedJobs.Storage.Sqlite.Internal.SqliteJobs;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>
/// The SQLite backend for every storage role. Writes go through one <see cref="SqliteWriter"/> (group commit on a
/// dedicated connection); reads use pooled connections and see the last committed state (WAL). The clock is the
/// injected <see cref="TimeProvider"/>: with several processes on one file their clocks must agree (same machine).
/// </summary>
internal sealed partial class SqliteStorage : IJobStore, IResultStore, IEventStore, IScheduleStore, IAsyncDisposable, IDisposable
{
    private readonly SqliteStorageOptions options;
    private readonly string connectionString;
    private readonly string readConnectionString;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly AsyncSignal signal = new();
    private readonly object initGate = new();
    private Task<SqliteWriter>? initialized;
    private bool disposed;

    public SqliteStorage(SqliteStorageOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Clone();
        var validated = this.options.Validate();
        var builder = new SqliteConnectionStringBuilder(validated)
        {
            DefaultTimeout = (int)Math.Ceiling(this.options.BusyTimeout.TotalSeconds),
        };
        builder.Pooling = false;
        connectionString = builder.ToString();
        builder.Pooling = true;
        readConnectionString = builder.ToString();
        Sql = new SqliteSql(this.options.TablePrefix);
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
    }

    public SqliteSql Sql { get; }

    public StorageCapabilities Capabilities => StorageCapabilities.TransactionalEnqueue | StorageCapabilities.Durable;

    /// <summary>Wakes in-process workers (used after a transactional enqueue committed on a caller's connection).</summary>
    public void Wake() => signal.Set();

    public async ValueTask InitializeAsync(CancellationToken cancellationToken) =>
        await WriterAsync(cancellationToken).ConfigureAwait(false);

    private Task<SqliteWriter> WriterAsync(CancellationToken cancellationToken)
    {
        var task = Volatile.Read(ref initialized);
        if (task is { IsCompletedSuccessfully: true })
        {
            return task;
        }

        lock (initGate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (initialized is null || initialized.IsFaulted || initialized.IsCanceled)
            {
                initialized = Task.Run(StartWriter, CancellationToken.None);
            }

            return initialized.WaitAsync(cancellationToken);
        }
    }

    private SqliteWriter StartWriter()
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            Execute(connection, SqlitePragmas.BusyTimeout(options.BusyTimeout));
            Execute(connection, SqlitePragmas.JournalModeWal);
            Execute(connection, SqlitePragmas.Synchronous(options.Synchronous));
            Migrate(connection);
            return new SqliteWriter(connection, options.MaxWriteBatch, signal.Set, logger);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Applies missing migrations in one <c>BEGIN IMMEDIATE</c> transaction: a second process starting at the same
    /// time waits for the write lock, then finds the schema current and does nothing.
    /// </summary>
    private void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var create = connection.CreateCommand())
        {
            create.Transaction = transaction;
            create.CommandText = Sql.CreateMigrationsTable;
            create.ExecuteNonQuery();
        }

        long current;
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = Sql.SelectSchemaVersion;
            current = (long)select.ExecuteScalar()!;
        }

        if (current > SqliteSql.SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The SQLite database has TypedJobs schema version {current} (tables '{options.TablePrefix}*'), newer than this version of TypedJobs understands ({SqliteSql.SchemaVersion}). Upgrade TypedJobs.");
        }

        foreach (var migration in Sql.Migrations)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            foreach (var statement in migration.Statements)
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = statement;
                command.ExecuteNonQuery();
            }

            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = Sql.InsertMigration;
            record.Add("@version", migration.Version);
            record.Add("@description", migration.Description);
            record.Add("@now", Ticks(time.GetUtcNow()));
            record.ExecuteNonQuery();
            LogMigrated(logger, migration.Version, migration.Description, options.TablePrefix);
        }

        transaction.Commit();
    }

    private async Task<T> WriteAsync<T>(Func<WriteContext, T> body, CancellationToken cancellationToken)
    {
        var writer = await WriterAsync(cancellationToken).ConfigureAwait(false);
        return await writer.WriteAsync(body, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, T> body, CancellationToken cancellationToken)
    {
        await WriterAsync(cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = new SqliteConnection(readConnectionString);
        connection.Open();
        return body(connection);
    }

    private long NowTicks() => Ticks(time.GetUtcNow());

    // ---------------------------------------------------------------- jobs

    public async ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Jobs.Count == 0)
        {
            return new JobsInsertResult([]);
        }

        var outcomes = await WriteAsync(ctx =>
        {
            var result = Insert(Sql, ctx.Command, parameters.Jobs, time.GetUtcNow(), out var ready);
            ctx.Wake |= ready;
            return result;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsInsertResult(outcomes);
    }

    public async ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0 || parameters.Queues.Count == 0)
        {
            return new JobsClaimResult([], null);
        }

        return await WriteAsync(ctx => Claim(ctx, parameters), cancellationToken).ConfigureAwait(false);
    }

    private JobsClaimResult Claim(WriteContext ctx, JobsClaimParams parameters)
    {
        var now = time.GetUtcNow();
        var nowTicks = Ticks(now);
        var queues = parameters.Queues.Where(q => q.Max > 0).GroupBy(q => q.Name, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Left: g.Sum(q => q.Max))).ToArray();
        var taskLeft = parameters.TaskLimits is null ? null : new Dictionary<string, int>(parameters.TaskLimits, StringComparer.Ordinal);
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        if (taskLeft is not null)
        {
            foreach (var (task, left) in taskLeft)
            {
                if (left <= 0)
                {
                    excluded.Add(task);
                }
            }
        }

        var chosen = new List<long>();
        var total = parameters.Max;
        // Candidates come per queue in claim order; a task that reaches its limit is excluded and the queues are read
        // again, so the limit never blocks other tasks. Each round excludes at least one more task, so this ends.
        while (total > chosen.Count)
        {
            var candidates = new List<(long Seq, string Task, int Queue, int Priority, long Due)>();
            for (var q = 0; q < queues.Length; q++)
            {
                if (queues[q].Left <= 0)
                {
                    continue;
                }

                var select = ctx.Command(Sql.ClaimCandidates);
                select.Add("@queue", queues[q].Name);
                select.Add("@now", nowTicks);
                select.Add("@excluded_tasks", excluded.Count == 0 ? null : JsonArray(excluded));
                select.Add("@chosen", chosen.Count == 0 ? null : JsonArray(chosen));
                select.Add("@limit", Math.Min(queues[q].Left, total - chosen.Count));
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    candidates.Add((reader.GetInt64(0), reader.GetString(1), q, reader.GetInt32(2), reader.GetInt64(3)));
                }
            }

            if (candidates.Count == 0)
            {
                break;
            }

            // Each queue's candidates arrive in claim order; merge the queues by the same order.
            candidates.Sort(static (a, b) =>
            {
                var c = b.Priority.CompareTo(a.Priority);
                if (c == 0)
                {
                    c = a.Due.CompareTo(b.Due);
                }

                return c != 0 ? c : a.Seq.CompareTo(b.Seq);
            });
            var limitHit = false;
            foreach (var (seq, task, q, _, _) in candidates)
            {
                if (chosen.Count >= total)
                {
                    break;
                }

                if (queues[q].Left <= 0)
                {
                    continue;
                }

                if (excluded.Contains(task))
                {
                    // The task reached its limit in this round: read the queues again without it.
                    limitHit = true;
                    continue;
                }

                if (taskLeft is not null && taskLeft.TryGetValue(task, out var left))
                {
                    taskLeft[task] = left - 1;
                    if (left - 1 == 0)
                    {
                        excluded.Add(task);
                    }
                }

                queues[q].Left--;
                chosen.Add(seq);
            }

            if (!limitHit)
            {
                break;
            }
        }

        var jobs = new List<(JobRecord Job, long Seq)>(chosen.Count);
        if (chosen.Count > 0)
        {
            var update = ctx.Command(Sql.ClaimJobs);
            update.Add("@seqs", JsonArray(chosen));
            update.Add("@now", nowTicks);
            update.Add("@lease_expires_at", Ticks(now + parameters.LeaseDuration));
            update.Add("@worker_id", parameters.WorkerId);
            using var reader = update.ExecuteReader();
            while (reader.Read())
            {
                var job = ReadJob(reader, nowTicks, out var seq);
                jobs.Add((job, seq));
            }
        }

        jobs.Sort(static (a, b) =>
        {
            var c = b.Job.Priority.CompareTo(a.Job.Priority);
            if (c == 0)
            {
                c = a.Job.DueAt.UtcTicks.CompareTo(b.Job.DueAt.UtcTicks);
            }

            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        });

        DateTimeOffset? nextDue = null;
        if (jobs.Count < parameters.Max)
        {
            foreach (var (name, _) in queues)
            {
                var select = ctx.Command(Sql.NextDueAt);
                select.Add("@queue", name);
                select.Add("@now", nowTicks);
                if (select.ExecuteScalar() is long due && (nextDue is null || due < nextDue.Value.UtcTicks))
                {
                    nextDue = Time(due);
                }
            }
        }

        return new JobsClaimResult(jobs.Select(j => j.Job).ToArray(), nextDue);
    }

    public async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Completions.Count == 0)
        {
            return new JobsCompleteResult([]);
        }

        var applied = await WriteAsync(ctx =>
        {
            var now = time.GetUtcNow();
            var result = new bool[parameters.Completions.Count];
            for (var i = 0; i < result.Length; i++)
            {
                var c = parameters.Completions[i];
                var (state, due, giveBack, setError) = c.Kind switch
                {
                    CompletionKind.Succeeded => (JobState.Succeeded, (DateTimeOffset?)null, false, false),
                    CompletionKind.Dead => (JobState.Dead, null, false, true),
                    CompletionKind.Cancelled => (JobState.Cancelled, null, false, true),
                    CompletionKind.Retry => ((JobState)SqliteSql.Waiting, now + c.Delay, false, true),
                    CompletionKind.Snooze => ((JobState)SqliteSql.Waiting, now + c.Delay, true, false),
                    CompletionKind.Release => ((JobState)SqliteSql.Waiting, null, true, false),
                    _ => throw new ArgumentOutOfRangeException(nameof(parameters), c.Kind, "Unknown completion kind."),
                };
                var update = ctx.Command(Sql.CompleteJob);
                update.Add("@state", (int)state);
                update.Add("@now", Ticks(now));
                update.Add("@due_at", due is { } d ? Ticks(d) : null);
                update.Add("@give_back", giveBack ? 1 : 0);
                update.Add("@set_error", setError ? 1 : 0);
                update.Add("@error", c.Error);
                update.Add("@id", c.Id.Value);
                update.Add("@lease_token", c.LeaseToken);
                result[i] = update.ExecuteNonQuery() == 1;
                ctx.Wake |= result[i] && (int)state == SqliteSql.Waiting && (due is null || due <= now);
            }

            return result;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsCompleteResult(applied);
    }

    public async ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Leases.Count == 0)
        {
            return new LeasesExtendResult([]);
        }

        var lost = await WriteAsync(ctx =>
        {
            var expires = Ticks(time.GetUtcNow() + parameters.LeaseDuration);
            var result = new List<JobId>();
            foreach (var lease in parameters.Leases)
            {
                var update = ctx.Command(Sql.ExtendLease);
                update.Add("@lease_expires_at", expires);
                update.Add("@id", lease.Id.Value);
                update.Add("@lease_token", lease.LeaseToken);
                if (update.ExecuteNonQuery() != 1)
                {
                    result.Add(lease.Id);
                }
            }

            return result;
        }, cancellationToken).ConfigureAwait(false);
        return new LeasesExtendResult(lost);
    }

    public async ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rescued = await WriteAsync(ctx =>
        {
            var update = ctx.Command(Sql.RescueJobs);
            update.Add("@now", NowTicks());
            update.Add("@max", parameters.Max);
            var result = new List<RescuedJob>();
            using var reader = update.ExecuteReader();
            while (reader.Read())
            {
                var state = reader.GetInt32(4);
                result.Add(new RescuedJob(new JobId(reader.GetGuid(0)), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                    state == SqliteSql.Waiting ? JobState.Ready : (JobState)state));
                ctx.Wake |= state == SqliteSql.Waiting;
            }

            return result;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsRescueResult(rescued);
    }

    public ValueTask JobsWaitAsync(IReadOnlyCollection<string> queues, CancellationToken cancellationToken) =>
        signal.WaitAsync(cancellationToken);

    public async ValueTask<JobRecord?> JobsGetAsync(JobId id, CancellationToken cancellationToken) =>
        await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.SelectJob;
            select.Add("@id", id.Value);
            using var reader = select.ExecuteReader();
            return reader.Read() ? ReadJob(reader, NowTicks(), out _) : null;
        }, cancellationToken).ConfigureAwait(false);

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
            select.Add("@queue", parameters.Queue);
            select.Add("@task", parameters.TaskName);
            select.Add("@state", parameters.State is { } s ? (int)s : null);
            select.Add("@now", now);
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

    public async ValueTask<JobCancelResult> JobsCancelAsync(JobId id, CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var now = NowTicks();
            var select = ctx.Command(Sql.SelectJobState);
            select.Add("@id", id.Value);
            JobState previous;
            using (var reader = select.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return new JobCancelResult(false, false, default);
                }

                var state = reader.GetInt32(0);
                previous = state == SqliteSql.Waiting ? (reader.GetInt64(1) > now ? JobState.Scheduled : JobState.Ready) : (JobState)state;
            }

            if (previous.IsFinished())
            {
                return new JobCancelResult(true, false, previous);
            }

            var update = ctx.Command(Sql.CancelJob);
            update.Add("@id", id.Value);
            update.Add("@now", now);
            return new JobCancelResult(true, update.ExecuteNonQuery() == 1, previous);
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> JobsRetryAsync(JobId id, CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var update = ctx.Command(Sql.RetryJob);
            update.Add("@id", id.Value);
            update.Add("@now", NowTicks());
            var retried = update.ExecuteNonQuery() == 1;
            ctx.Wake |= retried;
            return retried;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> JobsDeleteAsync(JobId id, CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var delete = ctx.Command(Sql.DeleteJob);
            delete.Add("@id", id.Value);
            var deleted = delete.ExecuteNonQuery() == 1;
            var result = ctx.Command(Sql.DeleteResult);
            result.Add("@id", id.Value);
            result.ExecuteNonQuery();
            return deleted;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<int> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var states = parameters.States.Where(s => s.IsFinished()).Select(s => (long)s).Distinct().ToArray();
        if (states.Length == 0 || parameters.Max <= 0)
        {
            return 0;
        }

        return await WriteAsync(ctx =>
        {
            var select = ctx.Command(Sql.PruneCandidates);
            select.Add("@states", JsonArray(states));
            select.Add("@before", Ticks(parameters.FinishedBefore));
            select.Add("@max", parameters.Max);
            var seqs = new List<long>();
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    seqs.Add(reader.GetInt64(0));
                }
            }

            if (seqs.Count == 0)
            {
                return 0;
            }

            var json = JsonArray(seqs);
            var results = ctx.Command(Sql.PruneResults);
            results.Add("@seqs", json);
            results.ExecuteNonQuery();
            var delete = ctx.Command(Sql.PruneJobs);
            delete.Add("@seqs", json);
            return delete.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<QueueInfo>> QueuesListAsync(CancellationToken cancellationToken) =>
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
            return list;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask QueuesPauseAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.PauseQueue);
            command.Add("@queue", queue);
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask QueuesResumeAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.ResumeQueue);
            command.Add("@queue", queue);
            ctx.Wake = true;
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> QueuesClearAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        return await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.ClearQueue);
            command.Add("@queue", queue);
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> LocksAcquireAsync(LockAcquireParams parameters, CancellationToken cancellationToken)
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
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> LocksReleaseAsync(string name, string owner, CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.ReleaseLock);
            command.Add("@name", name);
            command.Add("@owner", owner);
            return command.ExecuteScalar() is long expires && expires > NowTicks();
        }, cancellationToken).ConfigureAwait(false);

    // ---------------------------------------------------------------- results

    public async ValueTask ResultsSetAsync(IReadOnlyList<ResultWrite> results, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            return;
        }

        await WriteAsync(ctx =>
        {
            var now = time.GetUtcNow();
            foreach (var r in results)
            {
                var command = ctx.Command(Sql.SetResult);
                command.Add("@id", r.JobId.Value);
                command.Add("@value", r.Value);
                command.Add("@expires_at", Ticks(now + r.Ttl));
                command.ExecuteNonQuery();
            }

            return 0;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StoredResult?> ResultsGetAsync(JobId id, CancellationToken cancellationToken) =>
        await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.GetResult;
            select.Add("@id", id.Value);
            select.Add("@now", NowTicks());
            using var reader = select.ExecuteReader();
            return reader.Read() ? new StoredResult(reader.GetFieldValue<byte[]>(0), Time(reader.GetInt64(1))) : null;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<int> ResultsPruneAsync(CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.PruneExpiredResults);
            command.Add("@now", NowTicks());
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);

    // ---------------------------------------------------------------- events

    public async ValueTask EventsAppendAsync(IReadOnlyList<JobEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        await WriteAsync(ctx =>
        {
            foreach (var e in events)
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

            return 0;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<JobEvent>> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
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

            return (IReadOnlyList<JobEvent>)list;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> EventsPruneAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.PruneEvents);
            command.Add("@before", Ticks(before));
            return command.ExecuteNonQuery();
        }, cancellationToken).ConfigureAwait(false);

    // ---------------------------------------------------------------- schedules

    public async ValueTask<ScheduleRecord> SchedulesUpsertAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return await WriteAsync(ctx =>
        {
            var version = NextScheduleVersion(ctx);
            var command = ctx.Command(Sql.UpsertSchedule);
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
            command.ExecuteNonQuery();
            return schedule with { Version = version };
        }, cancellationToken).ConfigureAwait(false);
    }

    private long NextScheduleVersion(WriteContext ctx) => (long)ctx.Command(Sql.NextScheduleVersion).ExecuteScalar()!;

    public async ValueTask<ScheduleRecord?> SchedulesGetAsync(string name, CancellationToken cancellationToken) =>
        await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.SelectSchedule;
            select.Add("@name", name);
            using var reader = select.ExecuteReader();
            return reader.Read() ? ReadSchedule(reader) : null;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<ScheduleRecord>> SchedulesListAsync(CancellationToken cancellationToken) =>
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
            return (IReadOnlyList<ScheduleRecord>)list;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> SchedulesDeleteAsync(string name, CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var command = ctx.Command(Sql.DeleteSchedule);
            command.Add("@name", name);
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<ScheduleRecord?> SchedulesAdvanceAsync(string name, long expectedVersion, DateTimeOffset? lastRunAt,
        DateTimeOffset? nextRunAt, CancellationToken cancellationToken) =>
        await WriteAsync(ctx =>
        {
            var version = NextScheduleVersion(ctx);
            var command = ctx.Command(Sql.AdvanceSchedule);
            command.Add("@name", name);
            command.Add("@expected_version", expectedVersion);
            command.Add("@version", version);
            command.Add("@last_run_at", lastRunAt is { } last ? Ticks(last) : null);
            command.Add("@next_run_at", nextRunAt is { } next ? Ticks(next) : null);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadSchedule(reader) : null;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<ScheduleRecord>> SchedulesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) =>
        await ReadAsync(connection =>
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.DueSchedules;
            select.Add("@now", Ticks(now));
            select.Add("@max", max);
            using var reader = select.ExecuteReader();
            var list = new List<ScheduleRecord>();
            while (reader.Read())
            {
                list.Add(ReadSchedule(reader));
            }

            return (IReadOnlyList<ScheduleRecord>)list;
        }, cancellationToken).ConfigureAwait(false);

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

    // ---------------------------------------------------------------- lifetime

    public void Dispose()
    {
        Task<SqliteWriter>? writer;
        lock (initGate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            writer = initialized;
        }

        if (writer is not null)
        {
            try
            {
                writer.GetAwaiter().GetResult().Dispose();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Initialization failed: there is no writer to stop.
            }
        }

        using var pooled = new SqliteConnection(readConnectionString);
        SqliteConnection.ClearPool(pooled);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Applied TypedJobs SQLite schema version {Version} ({Description}) to tables '{Prefix}*'")]
    private static partial void LogMigrated(ILogger logger, int version, string description, string prefix);
}
