using Npgsql;
using NpgsqlTypes;
using static TypedJobs.Storage.Postgres.Internal.PostgresRows;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>The hot path of the jobs role: insert, claim, complete, extend, rescue, progress.</summary>
internal sealed partial class PostgresStorage
{
    /// <summary>How often a hot-path call the server chose as a deadlock's victim is run again.</summary>
    private const int DeadlockRetries = 3;

    private int deadlockVictims;

    /// <summary>How many hot-path calls of this store the server rolled back as a deadlock's victim (each then ran again).</summary>
    internal int DeadlockVictims => Volatile.Read(ref deadlockVictims);

    /// <summary>
    /// Runs a hot-path call within <see cref="HotPathTimeout"/>: waiting for a pooled connection, the statement and reading
    /// its result all count. A call that runs out of time fails with <see cref="TimeoutException"/>. Each call is one
    /// statement or one transaction of its own, and its writes are fenced, so a call the server rolled back as a
    /// deadlock's victim is run again, up to <see cref="DeadlockRetries"/> times. Completions, lease extensions and progress
    /// send their arrays in id order: once more than a few jobs are running the plan is a nested loop over the arrays,
    /// which locks rows in the order sent, so two batches about the same jobs (a worker's completions beside its
    /// heartbeat, a stale worker's beside the new holder's) lock them in one order. Other plans visit rows in the order
    /// of an index or of the table, and a stale completion's recheck of a row it then leaves unchanged still holds that
    /// row's lock to its end, so a cycle stays possible, only rarer.
    /// </summary>
    private async ValueTask<TResult> HotPathAsync<TParams, TResult>(TParams parameters,
        Func<PostgresStorage, TParams, CancellationToken, ValueTask<TResult>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.HotPathTimeout);
        try
        {
            for (var retry = 0; ; retry++)
            {
                try
                {
                    return await call(this, parameters, timeout.Token).ConfigureAwait(false);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DeadlockDetected && retry < DeadlockRetries)
                {
                    Interlocked.Increment(ref deadlockVictims);
                    LogDeadlockVictim(logger, retry + 1, DeadlockRetries);
                }
            }
        }
        catch (Exception ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested && ex is OperationCanceledException or NpgsqlException)
        {
            throw new TimeoutException($"A TypedJobs store call to PostgreSQL at {Target} took longer than the hot-path timeout ({options.HotPathTimeout}).", ex);
        }
    }

    public ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken) =>
        HotPathAsync(parameters, static (store, p, ct) => store.JobsInsertCoreAsync(p, ct), cancellationToken);

    public ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken) =>
        HotPathAsync(parameters, static (store, p, ct) => store.JobsClaimCoreAsync(p, ct), cancellationToken);

    public ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken) =>
        HotPathAsync(parameters, static (store, p, ct) => store.JobsCompleteCoreAsync(p, ct), cancellationToken);

    public ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken) =>
        HotPathAsync(parameters, static (store, p, ct) => store.LeasesExtendCoreAsync(p, ct), cancellationToken);

    public ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken) =>
        HotPathAsync(parameters, static (store, p, ct) => store.JobsRescueCoreAsync(p, ct), cancellationToken);

    public ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken) =>
        HotPathAsync(parameters, static (store, p, ct) => store.JobsProgressCoreAsync(p, ct), cancellationToken);

    private async ValueTask<JobsInsertResult> JobsInsertCoreAsync(JobsInsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Jobs.Count == 0)
        {
            return new JobsInsertResult([]);
        }

        var dueNow = AnyDueNow(parameters.Jobs);
        // Leading edge: the first insert of a window carries its NOTIFY in the same transaction (delivered at commit).
        var lead = dueNow && notifier is not null && Coalescer.TryLead();
        JobInsertOutcome[] outcomes;
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            outcomes = await InsertCoreAsync(connection, null, parameters.Jobs, lead ? "" : null, cancellationToken).ConfigureAwait(false);
        }

        if (dueNow)
        {
            signal.Set();
            if (!lead && notifier is not null)
            {
                Coalescer.Suppressed();
            }
        }

        return new JobsInsertResult(outcomes);
    }

    private bool AnyDueNow(IReadOnlyList<JobInsert> jobs)
    {
        var now = TestNow ?? DateTimeOffset.UtcNow;
        foreach (var job in jobs)
        {
            if ((job.RunAt is null || job.RunAt <= now) && (job.Delay is null || job.Delay <= TimeSpan.Zero))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Inserts a batch in one statement (atomic), optionally followed by a NOTIFY in the same transaction, and returns the
    /// outcomes in input order. A job whose key was taken by a job that committed after the statement began is looked up
    /// again with a fresh snapshot (and inserted again if that job is gone meanwhile).
    /// </summary>
    private async Task<JobInsertOutcome[]> InsertCoreAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<JobInsert> jobs,
        string? notifyPayload, CancellationToken cancellationToken)
    {
        var outcomes = new JobInsertOutcome[jobs.Count];
        if (transaction is null && await TryInsertPlainAsync(connection, jobs, notifyPayload, cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < outcomes.Length; i++)
            {
                outcomes[i] = new JobInsertOutcome(jobs[i].Id, true);
            }

            return outcomes;
        }

        var pending = Enumerable.Range(0, jobs.Count).ToList();
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == 5)
            {
                throw new InvalidOperationException($"The job {jobs[pending[0]].Id} was neither inserted nor deduplicated: its unique key kept changing hands.");
            }

            var unresolved = await InsertRoundAsync(connection, transaction, jobs, pending, outcomes, round == 0 ? notifyPayload : null, cancellationToken)
                .ConfigureAwait(false);
            if (unresolved.Count > 0)
            {
                unresolved = await FindHoldersAsync(connection, transaction, jobs, unresolved, outcomes, cancellationToken).ConfigureAwait(false);
            }

            pending = unresolved;
        }

        return outcomes;
    }

    /// <summary>
    /// The common batch — no unique keys, outside a caller's transaction — as a plain insert that reads nothing back: about
    /// twice as fast on the server as the full statement, which looks every job up again to report its outcome. Returns
    /// false, having changed nothing, when the batch has a unique key or an id is taken (stored already, or twice in the
    /// batch: a batch sent again after a lost reply); the full statement then reports each job's outcome.
    /// </summary>
    private async Task<bool> TryInsertPlainAsync(NpgsqlConnection connection, IReadOnlyList<JobInsert> jobs, string? notifyPayload,
        CancellationToken cancellationToken)
    {
        foreach (var job in jobs)
        {
            ArgumentNullException.ThrowIfNull(job);
            if (job.UniqueKey is not null)
            {
                return false;
            }
        }

        await using var batch = InsertBatch(connection, null, jobs, null, notifyPayload);
        await PrepareAsync(batch, cancellationToken).ConfigureAwait(false);
        try
        {
            // The batch is one implicit transaction: a taken id rolls back the insert and the NOTIFY with it.
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
    }

    /// <summary>
    /// The insert of <paramref name="jobs"/> (those at <paramref name="indexes"/>, in that order; all without them) as
    /// one batch: the full statement (<see cref="PostgresSql.InsertJobs"/>) when <paramref name="indexes"/> is given, the
    /// plain one (<see cref="PostgresSql.InsertJobsPlain"/>, no unique keys) otherwise; then the NOTIFY, if any.
    /// </summary>
    private NpgsqlBatch InsertBatch(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<JobInsert> jobs,
        IReadOnlyList<int>? indexes, string? notifyPayload)
    {
        var full = indexes is not null;
        var n = indexes?.Count ?? jobs.Count;
        var ids = new Guid[n];
        var tasks = new string[n];
        var queues = new string[n];
        var priorities = new int[n];
        var payloads = new byte[n][];
        var maxRetries = new int[n];
        var runAts = new DateTime?[n];
        var delays = new long[n];
        var keys = full ? new byte[]?[n] : null;
        var untilPruned = full ? new bool[n] : null;
        var traceParents = new string?[n];
        var traceStates = new string?[n];
        for (var k = 0; k < n; k++)
        {
            var job = jobs[indexes?[k] ?? k];
            ArgumentNullException.ThrowIfNull(job);
            ids[k] = job.Id.Value;
            tasks[k] = job.TaskName;
            queues[k] = job.Queue;
            priorities[k] = (int)job.Priority;
            payloads[k] = job.Payload;
            maxRetries[k] = job.MaxRetries;
            runAts[k] = job.RunAt is { } runAt ? Utc(runAt) : null;
            delays[k] = job.Delay is { } delay ? Micros(delay) : 0;
            traceParents[k] = job.TraceParent;
            traceStates[k] = job.TraceState;
            if (full)
            {
                keys![k] = KeyBytes(job.UniqueKey);
                untilPruned![k] = job.UniqueUntilPruned;
            }
        }

        var batch = new NpgsqlBatch(connection, transaction) { Timeout = hotTimeout };
        var insert = BatchCommand(full ? Sql.InsertJobs : Sql.InsertJobsPlain);
        insert.Add("ids", ids);
        insert.Add("tasks", tasks);
        insert.Add("queues", queues);
        insert.Add("priorities", priorities);
        insert.Add("payloads", payloads);
        insert.Add("max_retries", maxRetries);
        insert.Parameters.Add(new NpgsqlParameter<DateTime?[]>("run_ats", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = runAts });
        insert.Add("delays", delays);
        if (full)
        {
            insert.Add("unique_keys", keys!);
            insert.Add("until_pruned", untilPruned!);
        }

        insert.Add("trace_parents", traceParents);
        insert.Add("trace_states", traceStates);
        batch.BatchCommands.Add(insert);
        if (notifyPayload is not null)
        {
            var notify = new NpgsqlBatchCommand(Sql.Notify);
            notify.Add("channel", Channel);
            notify.Add("payload", notifyPayload);
            batch.BatchCommands.Add(notify);
        }

        return batch;
    }

    private async Task<List<int>> InsertRoundAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<JobInsert> jobs,
        List<int> indexes, JobInsertOutcome[] outcomes, string? notifyPayload, CancellationToken cancellationToken)
    {
        await using var batch = InsertBatch(connection, transaction, jobs, indexes, notifyPayload);
        await PrepareAsync(batch, cancellationToken).ConfigureAwait(false);
        var unresolved = new List<int>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = indexes[(int)reader.GetInt64(0) - 1];
            if (reader.IsDBNull(1))
            {
                unresolved.Add(index);
                continue;
            }

            outcomes[index] = new JobInsertOutcome(new JobId(reader.GetGuid(1)), reader.GetBoolean(2));
        }

        return unresolved;
    }

    private async Task<List<int>> FindHoldersAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<JobInsert> jobs,
        List<int> indexes, JobInsertOutcome[] outcomes, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, Sql.SelectIdsByKeys, hotTimeout, transaction);
        select.Add("queues", indexes.Select(i => jobs[i].Queue).ToArray());
        select.Add("unique_keys", indexes.Select(i => KeyBytes(jobs[i].UniqueKey)).ToArray());
        select.Add("ords", indexes.Select(i => (long)i).ToArray());
        var found = new HashSet<int>();
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var index = (int)reader.GetInt64(0);
                outcomes[index] = new JobInsertOutcome(new JobId(reader.GetGuid(1)), false);
                found.Add(index);
            }
        }

        return indexes.Where(i => !found.Contains(i)).ToList();
    }

    private async ValueTask<JobsClaimResult> JobsClaimCoreAsync(JobsClaimParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var queues = StorageRules.ClaimQueues(parameters);
        if (queues.Length == 0)
        {
            return new JobsClaimResult([], null);
        }

        var names = queues.Select(q => q.Name).ToArray();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var jobs = new List<(JobRecord Job, long Seq)>();
        await using (var claim = Command(connection, ClaimSql(parameters), hotTimeout))
        {
            BindClaim(claim.Parameters, parameters, queues);
            await PrepareAsync(claim, cancellationToken).ConfigureAwait(false);
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var job = ReadJob(reader, out var seq);
                jobs.Add((job, seq));
            }
        }

        // When the claim will be asked again at once, that is when it filled its maximum, the next due time is not needed
        // (nor paid for: it is a probe per queue and priority); a short claim asks for it, in a second round trip.
        TimeSpan? nextDueIn = null;
        if (jobs.Count < parameters.Max)
        {
            await using var next = Command(connection, Sql.NextDue, hotTimeout);
            next.Add("queues", names);
            await PrepareAsync(next, cancellationToken).ConfigureAwait(false);
            await using var reader = await next.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0))
            {
                nextDueIn = Time(reader, 0) - Time(reader, 1);
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
        var result = new JobRecord[jobs.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = jobs[i].Job;
        }

        return new JobsClaimResult(result, nextDueIn);
    }

    /// <summary>The claim statement for <paramref name="parameters"/>: the simpler one when no task is capped.</summary>
    private string ClaimSql(JobsClaimParams parameters) => parameters.TaskLimits is { Count: > 0 } ? Sql.ClaimJobs : Sql.ClaimJobsUncapped;

    private static void BindClaim(NpgsqlParameterCollection p, JobsClaimParams parameters, QueueClaim[] queues)
    {
        p.Add(new NpgsqlParameter<string[]>("queues", queues.Select(q => q.Name).ToArray()));
        p.Add(new NpgsqlParameter<int[]>("queue_max", queues.Select(q => q.Max).ToArray()));
        if (parameters.TaskLimits is { Count: > 0 } capped)
        {
            p.Add(new NpgsqlParameter<string[]>("capped_tasks", capped.Keys.ToArray()));
            p.Add(new NpgsqlParameter<int[]>("capped_max", capped.Values.Select(v => Math.Max(0, v)).ToArray()));
        }

        p.Add(new NpgsqlParameter<int>("max", parameters.Max));
        p.Add(new NpgsqlParameter<long>("lease_us", Micros(parameters.LeaseDuration)));
        p.Add(new NpgsqlParameter<string>("worker_id", parameters.WorkerId));
    }

    /// <summary>The plan of the claim statement for <paramref name="parameters"/>, executed and rolled back (EXPLAIN ANALYZE).</summary>
    internal Task<string> ExplainClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken)
    {
        var queues = StorageRules.ClaimQueues(parameters);
        return ExplainAsync(ClaimSql(parameters), c => BindClaim(c.Parameters, parameters, queues), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> under EXPLAIN ANALYZE in a transaction that is rolled back, and returns the plan with
    /// what each step read: for tests that prove a statement's plan.
    /// </summary>
    internal async Task<string> ExplainAsync(string sql, Action<NpgsqlCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, bulkTimeout, transaction);
        bind(command);
        var plan = new System.Text.StringBuilder();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                plan.AppendLine(reader.GetString(0));
            }
        }

        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        return plan.ToString();
    }

    private async ValueTask<JobsCompleteResult> JobsCompleteCoreAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var n = parameters.Completions.Count;
        if (n == 0)
        {
            return new JobsCompleteResult([]);
        }

        var ids = new Guid[n];
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = parameters.Completions[i].Job.Id.Value;
            order[i] = i;
        }

        // Sent in id order (entry i of the arrays is completion order[i]).
        Array.Sort(ids, order);
        var tokens = new Guid[n];
        var states = new short[n];
        var delays = new long?[n];
        var attemptDeltas = new int[n];
        var errors = new string?[n];
        var failed = new bool[n];
        var markUnknown = new bool[n];
        var results = new byte[]?[n];
        var ttls = new long[n];
        var wakes = false;
        for (var i = 0; i < n; i++)
        {
            var c = parameters.Completions[order[i]];
            StorageRules.ValidateCompletion(c);
            var waiting = !c.TargetState.IsFinished();
            tokens[i] = c.LeaseToken;
            states[i] = (short)(waiting ? PostgresSql.Waiting : (int)c.TargetState);
            delays[i] = waiting && c.Delay is { } delay ? Micros(delay) : null;
            attemptDeltas[i] = c.AttemptDelta;
            errors[i] = Text(c.Error);
            failed[i] = c.Failed;
            markUnknown[i] = c.MarkUnknownTask;
            results[i] = c.Result;
            ttls[i] = Micros(c.ResultTtl);
            wakes |= waiting && (c.Delay is null || c.Delay <= TimeSpan.Zero);
        }

        var applied = new bool[n];
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var command = Command(connection, Sql.CompleteJobs, hotTimeout);
            command.Add("ids", ids);
            command.Add("tokens", tokens);
            command.Add("states", states);
            command.Add("delays", delays);
            command.Add("attempt_deltas", attemptDeltas);
            command.Add("errors", errors);
            command.Add("failed", failed);
            command.Add("mark_unknown", markUnknown);
            command.Add("results", results);
            command.Add("ttls", ttls);
            await PrepareAsync(command, cancellationToken).ConfigureAwait(false);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied[order[reader.GetInt64(0) - 1]] = true;
            }
        }

        if (wakes)
        {
            signal.Set();
            NotifyOthers();
        }

        return new JobsCompleteResult(applied);
    }

    private async ValueTask<LeasesExtendResult> LeasesExtendCoreAsync(LeasesExtendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Leases.Count == 0)
        {
            return new LeasesExtendResult([]);
        }

        var kept = new HashSet<(Guid, Guid)>();
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            var ids = parameters.Leases.Select(l => l.Job.Id.Value).ToArray();
            var tokens = parameters.Leases.Select(l => l.LeaseToken).ToArray();
            Array.Sort(ids, tokens); // in id order, as every batch of this store
            await using var command = Command(connection, Sql.ExtendLeases, hotTimeout);
            command.Add("lease_us", Micros(parameters.LeaseDuration));
            command.Add("ids", ids);
            command.Add("tokens", tokens);
            await PrepareAsync(command, cancellationToken).ConfigureAwait(false);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                kept.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }
        }

        return new LeasesExtendResult(parameters.Leases.Where(l => !kept.Contains((l.Job.Id.Value, l.LeaseToken))).ToList());
    }

    private async ValueTask<JobsRescueResult> JobsRescueCoreAsync(JobsRescueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0)
        {
            return new JobsRescueResult([]);
        }

        var rescued = await QueryAsync(Sql.RescueJobs, hotTimeout, c => c.Add("max", parameters.Max), static r =>
        {
            var state = r.GetInt16(4);
            return new RescuedJob(new JobRef(new JobId(r.GetGuid(0)), r.GetString(2)), r.GetString(1), r.GetInt32(3),
                state == PostgresSql.Waiting ? JobState.Ready : (JobState)state, NullableString(r, 5));
        }, cancellationToken, prepared: true).ConfigureAwait(false);
        if (rescued.Any(j => j.NewState == JobState.Ready))
        {
            signal.Set();
            NotifyOthers();
        }

        return new JobsRescueResult(rescued);
    }

    private async ValueTask<JobsProgressResult> JobsProgressCoreAsync(JobsProgressParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var n = parameters.Updates.Count;
        if (n == 0)
        {
            return new JobsProgressResult([]);
        }

        var ids = parameters.Updates.Select(u => u.Lease.Job.Id.Value).ToArray();
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(ids, order); // in id order, as every batch of this store (entry i is update order[i])
        var updates = order.Select(i => parameters.Updates[i]).ToArray();
        var applied = new bool[n];
        var ords = await QueryAsync(Sql.ReportProgress, hotTimeout, c =>
        {
            c.Add("ids", ids);
            c.Add("tokens", updates.Select(u => u.Lease.LeaseToken).ToArray());
            c.Add("progress", updates.Select(u => Math.Clamp(u.Progress, 0, 1)).ToArray());
            c.Add("messages", updates.Select(u => Text(u.Message)).ToArray());
        }, static r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
        foreach (var ord in ords)
        {
            applied[order[ord - 1]] = true;
        }

        return new JobsProgressResult(applied);
    }
}
