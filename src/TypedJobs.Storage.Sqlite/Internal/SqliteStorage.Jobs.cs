using Microsoft.Data.Sqlite;
using static TypedJobs.Storage.Sqlite.Internal.SqliteJobs;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>The hot path of the jobs role: insert, claim, complete, extend, rescue, progress, wait.</summary>
internal sealed partial class SqliteStorage
{
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
        var queues = StorageRules.ClaimQueues(parameters);
        if (queues.Length == 0)
        {
            return new JobsClaimResult([], null);
        }

        try
        {
            return await WriteAsync(ctx => Claim(ctx, parameters, queues), cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (claimTaskIndex && ex.Message.Contains("no such index", StringComparison.Ordinal))
        {
            // The index was made in a write that did not commit, or dropped since: the next claim that needs it makes it.
            claimTaskIndex = false;
            throw;
        }
    }

    /// <summary>Whether jobs_claim_task is known to exist (read and set by the writer, which alone claims).</summary>
    private bool claimTaskIndex;

    /// <summary>Makes jobs_claim_task unless it exists (another process, or an earlier run, may have made it).</summary>
    private void EnsureClaimTaskIndex(WriteContext ctx, HashSet<string> excluded)
    {
        if (claimTaskIndex)
        {
            return;
        }

        var exists = ctx.Command(Sql.ClaimTaskIndexExists);
        if (exists.ExecuteScalar() is null)
        {
            ctx.Command(Sql.CreateClaimTaskIndex).ExecuteNonQuery();
            LogClaimTaskIndex(logger, string.Join(", ", excluded), options.TablePrefix);
        }

        claimTaskIndex = true;
    }

    /// <summary>
    /// Adds the candidates <paramref name="select"/> reads (sequence, task, priority, due time) for queue
    /// <paramref name="q"/>: with <paramref name="task"/> when every row has that task, else with the task name read
    /// when <paramref name="readTask"/> (only task limits need it).
    /// </summary>
    private static void ReadCandidates(SqliteCommand select, int q, List<(long Seq, string? Task, int Queue, int Priority, long Due)> candidates,
        string? task, bool readTask)
    {
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            candidates.Add((reader.GetInt64(0), task ?? (readTask ? reader.GetString(1) : null), q, reader.GetInt32(2), reader.GetInt64(3)));
        }
    }

    /// <summary>The tasks that have waiting jobs in <paramref name="queue"/> (read once per claim).</summary>
    private List<string> QueueTasks(WriteContext ctx, string queue, ref Dictionary<string, List<string>>? tasksByQueue)
    {
        tasksByQueue ??= new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (!tasksByQueue.TryGetValue(queue, out var tasks))
        {
            tasks = [];
            var select = ctx.Command(Sql.ClaimTasks);
            select.Add("@queue", queue);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                tasks.Add(reader.GetString(0));
            }

            tasksByQueue[queue] = tasks;
        }

        return tasks;
    }

    /// <summary>Claims from <paramref name="queues"/> (each named once; their maximums are counted down as jobs are taken).</summary>
    private JobsClaimResult Claim(WriteContext ctx, JobsClaimParams parameters, QueueClaim[] queues)
    {
        var now = time.GetUtcNow();
        var nowTicks = Ticks(now);
        var queueCount = queues.Length;

        // Task limits, and the tasks excluded for reaching theirs, exist only when the claim has limits.
        var taskLeft = parameters.TaskLimits is null ? null : new Dictionary<string, int>(parameters.TaskLimits, StringComparer.Ordinal);
        var excluded = taskLeft is null ? null : new HashSet<string>(StringComparer.Ordinal);
        if (taskLeft is not null)
        {
            foreach (var (task, left) in taskLeft)
            {
                if (left <= 0)
                {
                    excluded!.Add(task);
                }
            }
        }

        var total = parameters.Max;
        // Per queue, the tasks that have waiting jobs, read once per claim when a task is at its cap.
        Dictionary<string, List<string>>? tasksByQueue = null;
        // The chosen, candidate and claimed lists are the writer's, reused from claim to claim.
        var chosen = ctx.ClaimChosen;
        chosen.Clear();
        var candidates = ctx.ClaimCandidates;
        // With task limits, per queue: how many candidates its one read of all tasks may return this round, and where its
        // last one sorts (see the merge below).
        var asked = taskLeft is null ? null : new int[queueCount];
        var lastAt = taskLeft is null ? null : new int[queueCount];
        // Candidates come per queue in claim order; a task that reaches its limit is excluded and the queues are read
        // again, so the limit never blocks other tasks. Each round excludes at least one more task, so this ends.
        while (total > chosen.Count)
        {
            candidates.Clear();
            // Whether this round reads each queue as one range of all its tasks (no task was at its cap before it).
            var oneReadPerQueue = excluded is not { Count: > 0 };
            for (var q = 0; q < queueCount; q++)
            {
                if (asked is not null)
                {
                    asked[q] = 0;
                }

                if (queues[q].Max <= 0)
                {
                    continue;
                }

                var limit = Math.Min(queues[q].Max, total - chosen.Count);
                var chosenJson = chosen.Count == 0 ? null : JsonArray(chosen);
                if (excluded is { Count: > 0 })
                {
                    EnsureClaimTaskIndex(ctx, excluded);
                    // Each task that is not at its cap on its own, so the capped tasks' waiting jobs are never read.
                    foreach (var task in QueueTasks(ctx, queues[q].Name, ref tasksByQueue))
                    {
                        if (excluded.Contains(task))
                        {
                            continue;
                        }

                        var ofTask = ctx.Command(Sql.ClaimTaskCandidates);
                        ofTask.Add("@queue", queues[q].Name);
                        ofTask.Add("@task", task);
                        ofTask.Add("@now", nowTicks);
                        ofTask.Add("@chosen", chosenJson);
                        ofTask.Add("@limit", limit);
                        ReadCandidates(ofTask, q, candidates, task, readTask: false);
                    }

                    continue;
                }

                var select = ctx.Command(Sql.ClaimCandidates);
                select.Add("@queue", queues[q].Name);
                select.Add("@now", nowTicks);
                select.Add("@excluded_tasks", excluded is not { Count: > 0 } ? null : JsonArray(excluded));
                select.Add("@chosen", chosenJson);
                select.Add("@limit", limit);
                // The task name matters only to task limits; without them it is not read into a string.
                var before = candidates.Count;
                ReadCandidates(select, q, candidates, task: null, readTask: taskLeft is not null);
                if (asked is not null && candidates.Count - before == limit)
                {
                    // It returned all it was asked for, so it may have more jobs waiting right behind its last candidate.
                    asked[q] = limit;
                }
            }

            if (candidates.Count == 0)
            {
                break;
            }

            // Each queue's candidates arrive in claim order; merge the queues by the same order.
            candidates.Sort(static (a, b) =>
            {
                var c = ((int)b.Priority).CompareTo((int)a.Priority);
                if (c == 0)
                {
                    c = a.Due.CompareTo(b.Due);
                }

                return c != 0 ? c : a.Seq.CompareTo(b.Seq);
            });
            if (lastAt is not null)
            {
                for (var c = 0; c < candidates.Count; c++)
                {
                    lastAt[candidates[c].Queue] = c;
                }
            }

            var limitHit = false;
            // Candidates past this position are left to the next round's read. A queue read as one range of all its tasks
            // that returned all it was asked for may have more jobs waiting right behind its last candidate; once one of
            // its candidates is skipped (its task reached its limit), those unread jobs can come before the other queues'
            // later candidates in claim order, so nothing after its last candidate is taken until the queues are read again.
            var boundary = int.MaxValue;
            for (var c = 0; c < candidates.Count && c <= boundary; c++)
            {
                var (seq, task, q, _, _) = candidates[c];
                if (chosen.Count >= total)
                {
                    break;
                }

                if (queues[q].Max <= 0)
                {
                    continue;
                }

                if (task is not null && excluded!.Contains(task))
                {
                    // The task reached its limit in this round: read the queues again without it.
                    limitHit = true;
                    if (oneReadPerQueue && asked![q] > 0)
                    {
                        boundary = Math.Min(boundary, lastAt![q]);
                    }

                    continue;
                }

                if (taskLeft is not null && task is not null && taskLeft.TryGetValue(task, out var left))
                {
                    taskLeft[task] = left - 1;
                    if (left - 1 == 0)
                    {
                        excluded!.Add(task);
                    }
                }

                queues[q] = queues[q] with { Max = queues[q].Max - 1 };
                chosen.Add(seq);
            }

            if (!limitHit)
            {
                break;
            }
        }

        var jobs = ctx.ClaimedJobs;
        jobs.Clear();
        if (chosen.Count > 0)
        {
            var update = ctx.Command(Sql.ClaimJobs);
            update.Add("@seqs", JsonArray(chosen));
            update.Add("@now", nowTicks);
            update.Add("@lease_expires_at", Ticks(now + parameters.LeaseDuration));
            update.Add("@worker_id", parameters.WorkerId);
            using var reader = update.ExecuteReader();
            var onlyQueue = queueCount == 1 ? queues[0].Name : null;
            while (reader.Read())
            {
                var job = ReadJob(reader, nowTicks, out var seq, onlyQueue, parameters.WorkerId);
                jobs.Add((job, seq));
            }
        }

        jobs.Sort(static (a, b) =>
        {
            var c = ((int)b.Job.Priority).CompareTo((int)a.Job.Priority);
            if (c == 0)
            {
                c = a.Job.DueAt.UtcTicks.CompareTo(b.Job.DueAt.UtcTicks);
            }

            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        });

        TimeSpan? nextDueIn = null;
        if (jobs.Count < parameters.Max)
        {
            for (var q = 0; q < queueCount; q++)
            {
                var select = ctx.Command(Sql.NextDueAt);
                select.Add("@queue", queues[q].Name);
                select.Add("@now", nowTicks);
                if (select.ExecuteScalar() is long due && (nextDueIn is null || TimeSpan.FromTicks(due - nowTicks) < nextDueIn))
                {
                    nextDueIn = TimeSpan.FromTicks(due - nowTicks);
                }
            }
        }

        var claimed = new JobRecord[jobs.Count];
        for (var i = 0; i < claimed.Length; i++)
        {
            claimed[i] = jobs[i].Job;
        }

        // Not kept past the claim: the records are the caller's now.
        jobs.Clear();
        return new JobsClaimResult(claimed, nextDueIn);
    }

    public async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Completions.Count == 0)
        {
            return new JobsCompleteResult([]);
        }

        for (var i = 0; i < parameters.Completions.Count; i++)
        {
            StorageRules.ValidateCompletion(parameters.Completions[i]);
        }

        var applied = await WriteAsync(ctx =>
        {
            var now = time.GetUtcNow();
            var result = CompleteBatch(ctx, parameters.Completions, now) ?? CompleteEach(ctx, parameters.Completions, now);
            long succeeded = 0;
            long failed = 0;
            for (var i = 0; i < result.Length; i++)
            {
                var c = parameters.Completions[i];
                if (!result[i])
                {
                    continue;
                }

                var waiting = !c.TargetState.IsFinished();
                // The result shares the completion's transaction: it exists if and only if the fenced completion applied.
                if (c.Result is { } value)
                {
                    var set = ctx.Command(Sql.SetResult);
                    set.Add("@id", c.Job.Id.Value);
                    set.Add("@lease_token", c.LeaseToken);
                    set.Add("@value", value);
                    set.Add("@expires_at", Ticks(now + c.ResultTtl));
                    set.ExecuteNonQuery();
                }

                succeeded += c.TargetState == JobState.Succeeded ? 1 : 0;
                failed += c.Failed ? 1 : 0;
                ctx.Wake |= waiting && (c.Delay is null || c.Delay <= TimeSpan.Zero);
            }

            CountThroughput(ctx, now, succeeded, failed);
            return result;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsCompleteResult(applied);
    }

    /// <summary>Applies completions one statement each (one completion, or a batch that names a job twice).</summary>
    private bool[] CompleteEach(WriteContext ctx, IReadOnlyList<JobCompletion> completions, DateTimeOffset now)
    {
        var nowTicks = Ticks(now);
        var result = new bool[completions.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var c = completions[i];
            var waiting = !c.TargetState.IsFinished();
            var update = ctx.Command(Sql.CompleteJob);
            update.Add("@state", waiting ? SqliteSql.Waiting : (int)c.TargetState);
            update.Add("@now", nowTicks);
            update.Add("@due_at", waiting && c.Delay is { } delay ? Ticks(now + delay) : null);
            update.Add("@attempt_delta", c.AttemptDelta);
            update.Add("@error", c.Error);
            update.Add("@mark_unknown", c.MarkUnknownTask ? 1 : 0);
            update.Add("@id", c.Job.Id.Value);
            update.Add("@lease_token", c.LeaseToken);
            result[i] = update.ExecuteNonQuery() == 1;
        }

        return result;
    }

    /// <summary>
    /// Applies several completions in one statement (<see cref="SqliteSql.CompleteJobs"/>): one parameter binding and one
    /// statement for the batch instead of eight bindings and a statement per job. Returns <see langword="null"/> for a
    /// single completion or a batch that names a job twice (which of two attempts applied is then told apart one by one).
    /// </summary>
    private bool[]? CompleteBatch(WriteContext ctx, IReadOnlyList<JobCompletion> completions, DateTimeOffset now)
    {
        var n = completions.Count;
        if (n < 2)
        {
            return null;
        }

        // The index and the JSON buffer and writer are the writer's, reused from batch to batch.
        var index = ctx.CompletionIndex;
        index.Clear();
        var ids = new byte[n * 16];
        var tokens = new byte[n * 16];
        var json = ctx.CompletionJson;
        json.ResetWrittenCount();
        var writer = ctx.JsonWriter(json);
        writer.WriteStartArray();
        for (var i = 0; i < n; i++)
        {
            var c = completions[i];
            if (!index.TryAdd(c.Job.Id.Value, i))
            {
                return null;
            }

            _ = c.Job.Id.Value.TryWriteBytes(ids.AsSpan(i * 16, 16));
            _ = c.LeaseToken.TryWriteBytes(tokens.AsSpan(i * 16, 16));
            var waiting = !c.TargetState.IsFinished();
            writer.WriteStartArray();
            writer.WriteNumberValue(waiting ? SqliteSql.Waiting : (int)c.TargetState);
            if (waiting && c.Delay is { } delay)
            {
                writer.WriteNumberValue(Ticks(now + delay));
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteNumberValue(c.AttemptDelta);
            if (c.Error is { } error)
            {
                // Text that is not valid UTF-16 (a surrogate pair cut in half) is written with U+FFFD in its place,
                // as SQLite does with such a string bound as a parameter.
                writer.WriteStringValue(error);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteNumberValue(c.MarkUnknownTask ? 1 : 0);
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
        writer.Flush();

        var update = ctx.Command(Sql.CompleteJobs);
        update.Add("@now", Ticks(now));
        update.Add("@ids", ids);
        update.Add("@lease_tokens", tokens);
        update.Add("@completions", System.Text.Encoding.UTF8.GetString(json.WrittenSpan));
        var result = new bool[n];
        using var reader = update.ExecuteReader();
        while (reader.Read())
        {
            result[index[reader.GetGuid(0)]] = true;
        }

        return result;
    }

    private void CountThroughput(WriteContext ctx, DateTimeOffset now, long succeeded, long failed)
    {
        if (succeeded + failed == 0)
        {
            return;
        }

        var count = ctx.Command(Sql.CountThroughput);
        count.Add("@minute", Ticks(StorageRules.MinuteOf(now)));
        count.Add("@succeeded", succeeded);
        count.Add("@failed", failed);
        count.ExecuteNonQuery();
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
            var result = new List<JobLease>();
            foreach (var lease in parameters.Leases)
            {
                var update = ctx.Command(Sql.ExtendLease);
                update.Add("@lease_expires_at", expires);
                update.Add("@id", lease.Job.Id.Value);
                update.Add("@lease_token", lease.LeaseToken);
                if (update.ExecuteNonQuery() != 1)
                {
                    result.Add(lease);
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
            var now = time.GetUtcNow();
            var update = ctx.Command(Sql.RescueJobs);
            update.Add("@now", Ticks(now));
            update.Add("@max", parameters.Max);
            var result = new List<RescuedJob>();
            long dead = 0;
            using (var reader = update.ExecuteReader())
            {
                while (reader.Read())
                {
                    var state = reader.GetInt32(4);
                    result.Add(new RescuedJob(new JobRef(new JobId(reader.GetGuid(0)), reader.GetString(2)), reader.GetString(1), reader.GetInt32(3),
                        state == SqliteSql.Waiting ? JobState.Ready : (JobState)state, reader.IsDBNull(5) ? null : reader.GetString(5)));
                    ctx.Wake |= state == SqliteSql.Waiting;
                    dead += state == (int)JobState.Dead ? 1 : 0;
                }
            }

            CountThroughput(ctx, now, 0, dead);
            return result;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsRescueResult(rescued);
    }

    public async ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Updates.Count == 0)
        {
            return new JobsProgressResult([]);
        }

        var applied = await WriteAsync(ctx =>
        {
            var result = new bool[parameters.Updates.Count];
            for (var i = 0; i < result.Length; i++)
            {
                var u = parameters.Updates[i];
                var update = ctx.Command(Sql.ReportProgress);
                update.Add("@progress", Math.Clamp(u.Progress, 0, 1));
                update.Add("@message", u.Message);
                update.Add("@id", u.Lease.Job.Id.Value);
                update.Add("@lease_token", u.Lease.LeaseToken);
                result[i] = update.ExecuteNonQuery() == 1;
            }

            return result;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsProgressResult(applied);
    }

    public ValueTask JobsWaitAsync(JobsWaitParams parameters, CancellationToken cancellationToken) => signal.WaitAsync(cancellationToken);

    // ---------------------------------------------------------------- transactional enqueue

    public ValueTask<JobsInsertInTransactionResult> JobsInsertInTransactionAsync(JobsInsertInTransactionParams parameters,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        cancellationToken.ThrowIfCancellationRequested();
        if (parameters.Transaction is not SqliteTransaction transaction)
        {
            throw new ArgumentException(
                $"The Jobs role is on SQLite ('{DatabasePath}'), so the transaction must be a SqliteTransaction on that file, not a {parameters.Transaction.GetType().Name}.",
                nameof(parameters));
        }

        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has already completed.");
        if (!string.Equals(Path.GetFullPath(connection.DataSource), DatabasePath, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The transaction is on the SQLite database '{connection.DataSource}', but the Jobs role is on '{DatabasePath}'.", nameof(parameters));
        }

        var commands = new List<SqliteCommand>();
        JobInsertOutcome[] outcomes;
        bool ready;
        try
        {
            outcomes = Insert(Sql, text =>
            {
                var command = connection.CreateCommand();
                command.CommandText = text;
                command.Transaction = transaction;
                commands.Add(command);
                return command;
            }, parameters.Jobs, time.GetUtcNow(), out ready);
        }
        finally
        {
            foreach (var command in commands)
            {
                command.Dispose();
            }
        }

        var afterCommit = parameters.AfterCommit;
        // The caller may roll back to a savepoint taken before this insert and still commit the rest: the commit is this
        // call's only when the first job it inserted is there afterwards.
        JobId? probe = null;
        foreach (var outcome in outcomes)
        {
            if (outcome.Inserted)
            {
                probe = outcome.Id;
                break;
            }
        }

        var observed = SqliteCommitHooks.AfterCommit(transaction, () =>
        {
            if (probe is { } id && !Committed(id))
            {
                return;
            }

            if (ready)
            {
                Wake();
            }

            afterCommit?.Invoke();
        });
        return ValueTask.FromResult(new JobsInsertInTransactionResult(outcomes, observed));
    }

    /// <summary>Whether the job is in the table (read on a connection of the store's own, after the caller's commit).</summary>
    private bool Committed(JobId id)
    {
        try
        {
            using var connection = new SqliteConnection(readConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = Sql.SelectIdExists;
            command.Add("@id", id.Value);
            return command.ExecuteScalar() is not null;
        }
        catch (SqliteException ex)
        {
            LogCommitProbeFailed(logger, ex, id);
            return false;
        }
    }
}
