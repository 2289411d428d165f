using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MySqlConnector;
using static TypedJobs.Storage.MySql.Internal.MySqlRows;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>The hot path of the jobs role: insert, claim, complete, extend, rescue, progress.</summary>
internal sealed partial class MySqlStorage
{
    /// <summary>The most bytes of row data one INSERT statement carries (well below the servers' default max_allowed_packet of 16 MiB).</summary>
    private const int MaxInsertBytes = 4 << 20;

    private static string N(int i) => i.ToString(CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- insert

    public async ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Jobs.Count == 0)
        {
            return new JobsInsertResult([]);
        }

        foreach (var job in parameters.Jobs)
        {
            ArgumentNullException.ThrowIfNull(job);
        }

        var outcomes = await RunAsync(Kind.Hot, (connection, ct) => InsertAsync(connection, null, parameters.Jobs, ct), cancellationToken)
            .ConfigureAwait(false);
        if (AnyReady(parameters.Jobs, outcomes))
        {
            signal.Set();
        }

        return new JobsInsertResult(outcomes);
    }

    private static bool AnyReady(IReadOnlyList<JobInsert> jobs, IReadOnlyList<JobInsertOutcome> outcomes)
    {
        for (var i = 0; i < jobs.Count; i++)
        {
            if (outcomes[i].Inserted && (jobs[i].Delay is null || jobs[i].Delay <= TimeSpan.Zero))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Inserts a batch atomically. Without a caller's transaction the batch first goes in as one multi-row INSERT (one
    /// round trip); should an id or a unique key already be taken, the batch is inserted again carefully: the taken ids and
    /// keys are read first (a locking read, so the latest committed rows), their holders returned, and the rest inserted.
    /// A unique key that a concurrent insert takes in between makes the INSERT fail with a duplicate key; the careful
    /// round then repeats. The unique index decides; the read only tells whose key it is.
    /// </summary>
    private async Task<JobInsertOutcome[]> InsertAsync(MySqlConnection connection, MySqlTransaction? transaction, IReadOnlyList<JobInsert> jobs,
        CancellationToken ct)
    {
        var kind = transaction is null ? Kind.Hot : Kind.Admin;
        if (transaction is null)
        {
            try
            {
                await InsertRowsAsync(connection, null, jobs, own: true, ct).ConfigureAwait(false);
                var all = new JobInsertOutcome[jobs.Count];
                for (var i = 0; i < all.Length; i++)
                {
                    all[i] = new JobInsertOutcome(jobs[i].Id, true);
                }

                return all;
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                // An id or key is taken (or repeated within the batch): insert carefully below.
            }
        }

        for (var round = 1; ; round++)
        {
            var outcomes = new JobInsertOutcome[jobs.Count];
            var rows = new List<JobInsert>(jobs.Count);
            await using (var check = Command(connection, transaction is null ? Begin : "", kind, transaction))
            {
                var text = new StringBuilder(check.CommandText);
                var ids = jobs.Select(j => j.Id).Distinct().ToArray();
                text.Append(MySqlSql.Format(Sql.SelectExistingIds, MySqlSql.List("e", ids.Length))).Append(';');
                for (var i = 0; i < ids.Length; i++)
                {
                    check.AddGuid("@e" + N(i), ids[i].Value);
                }

                var keyed = jobs.Where(j => j.UniqueKey is not null).Select(j => (j.Queue, Key: j.UniqueKey!)).Distinct().ToArray();
                if (keyed.Length > 0)
                {
                    var terms = string.Join(" OR ", keyed.Select((_, i) => $"(queue = @kq{N(i)} AND unique_hash = @kh{N(i)})"));
                    text.Append(MySqlSql.Format(Sql.SelectHeldKeys, terms));
                    for (var i = 0; i < keyed.Length; i++)
                    {
                        check.AddName("@kq" + N(i), keyed[i].Queue);
                        check.Add("@kh" + N(i), SHA256.HashData(Encoding.UTF8.GetBytes(keyed[i].Key)));
                    }
                }

                check.CommandText = text.ToString();
                var existing = new HashSet<JobId>();
                var holders = new Dictionary<(string Queue, string Key), JobId>();
                try
                {
                    await using var reader = await check.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        existing.Add(new JobId(GetGuid(reader, 0)));
                    }

                    if (keyed.Length > 0 && await reader.NextResultAsync(ct).ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            holders[(GetName(reader, 1), GetName(reader, 2))] = new JobId(GetGuid(reader, 0));
                        }
                    }
                }
                catch when (transaction is null)
                {
                    await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                    throw;
                }

                var taken = new HashSet<JobId>(existing);
                for (var i = 0; i < jobs.Count; i++)
                {
                    var job = jobs[i];
                    if (!taken.Add(job.Id))
                    {
                        // The id exists, or came earlier in this batch: the enqueue is idempotent.
                        outcomes[i] = new JobInsertOutcome(job.Id, false);
                        continue;
                    }

                    if (job.UniqueKey is not null && holders.TryGetValue((job.Queue, job.UniqueKey), out var holder))
                    {
                        taken.Remove(job.Id);
                        outcomes[i] = new JobInsertOutcome(holder, false);
                        continue;
                    }

                    if (job.UniqueKey is not null)
                    {
                        holders[(job.Queue, job.UniqueKey)] = job.Id;
                    }

                    outcomes[i] = new JobInsertOutcome(job.Id, true);
                    rows.Add(job);
                }
            }

            try
            {
                if (rows.Count > 0)
                {
                    await InsertRowsAsync(connection, transaction, rows, own: false, ct).ConfigureAwait(false);
                }

                if (transaction is null)
                {
                    await using var commit = Command(connection, "COMMIT", kind);
                    await commit.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                return outcomes;
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && round < 20)
            {
                // A concurrent insert took an id or key after the read: read again. In a caller's transaction only the
                // failed statement was rolled back, and the next locking read sees the committed holder.
                if (transaction is null)
                {
                    await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                }
            }
            catch when (transaction is null)
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Multi-row INSERTs of at most <see cref="MaxInsertBytes"/> each. With <paramref name="own"/> and more than one
    /// statement, they run in a transaction of their own; a single statement is atomic by itself.
    /// </summary>
    private async Task InsertRowsAsync(MySqlConnection connection, MySqlTransaction? transaction, IReadOnlyList<JobInsert> jobs, bool own,
        CancellationToken ct)
    {
        var chunks = new List<(int Start, int Count)>();
        var start = 0;
        long bytes = 0;
        for (var i = 0; i < jobs.Count; i++)
        {
            var size = 2L * jobs[i].Payload.Length + 2L * (jobs[i].UniqueKey?.Length ?? 0) + 512;
            if (i > start && bytes + size > MaxInsertBytes)
            {
                chunks.Add((start, i - start));
                start = i;
                bytes = 0;
            }

            bytes += size;
        }

        chunks.Add((start, jobs.Count - start));
        var wrap = own && chunks.Count > 1;
        var kind = transaction is null ? Kind.Hot : Kind.Admin;
        try
        {
            for (var c = 0; c < chunks.Count; c++)
            {
                var (first, count) = chunks[c];
                await using var insert = Command(connection, "", kind, transaction);
                var text = new StringBuilder(wrap && c == 0 ? Begin : "").Append(Sql.InsertJobsHead);
                for (var k = 0; k < count; k++)
                {
                    var job = jobs[first + k];
                    var i = N(k);
                    if (k > 0)
                    {
                        text.Append(',');
                    }

                    text.Append("(@id").Append(i).Append(", @ta").Append(i).Append(", @qu").Append(i).Append(", @pr").Append(i)
                        .Append(", 1, @pa").Append(i).Append(", 0, @mr").Append(i).Append(", ").Append(Sql.Now).Append(", ");
                    if (job.RunAt is { } runAt)
                    {
                        text.Append("@du").Append(i);
                        insert.AddTime("@du" + i, runAt + (job.Delay ?? TimeSpan.Zero));
                    }
                    else
                    {
                        text.Append(Sql.Now).Append(" + INTERVAL @dl").Append(i).Append(" MICROSECOND");
                        insert.AddMicroseconds("@dl" + i, job.Delay ?? TimeSpan.Zero);
                    }

                    text.Append(", @uk").Append(i).Append(", @up").Append(i).Append(", @tp").Append(i).Append(", @ts").Append(i).Append(')');
                    insert.AddGuid("@id" + i, job.Id.Value);
                    insert.AddName("@ta" + i, job.TaskName ?? throw new ArgumentException($"Job {job.Id} has no task name.", nameof(jobs)));
                    insert.AddName("@qu" + i, job.Queue ?? throw new ArgumentException($"Job {job.Id} has no queue.", nameof(jobs)));
                    insert.Add("@pr" + i, (int)job.Priority);
                    insert.Add("@pa" + i, job.Payload ?? throw new ArgumentException($"Job {job.Id} has no payload.", nameof(jobs)));
                    insert.Add("@mr" + i, job.MaxRetries);
                    insert.AddName("@uk" + i, job.UniqueKey);
                    insert.Add("@up" + i, job.UniqueUntilPruned ? 1 : 0);
                    insert.Add("@tp" + i, job.TraceParent);
                    insert.Add("@ts" + i, job.TraceState);
                }

                if (wrap && c == chunks.Count - 1)
                {
                    text.Append("; COMMIT");
                }

                insert.CommandText = text.ToString();
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
        catch when (wrap)
        {
            await RollbackQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    // ---------------------------------------------------------------- claim

    public async ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var queues = StorageRules.ClaimQueues(parameters);
        if (queues.Length == 0)
        {
            return new JobsClaimResult([], null);
        }

        return await RunAsync(Kind.Hot, (connection, ct) => ClaimAsync(connection, parameters, queues, ct), cancellationToken).ConfigureAwait(false);
    }

    private sealed record Candidate(JobRecord Job, long Seq, int Queue);

    /// <summary>
    /// A test seam: runs between a claim's locking read and its update, with the server's id of the claiming session, so
    /// fault tests can kill the session at exactly that point.
    /// </summary>
    internal Func<int, Task>? BetweenClaimReadAndUpdate { get; set; }

    /// <summary>
    /// One short transaction: per queue, a locking read of the best due jobs through the claim index that skips rows other
    /// claimers hold (<c>FOR UPDATE SKIP LOCKED</c>), merged in claim order under the per-queue, total and per-task limits;
    /// then one UPDATE that gives each chosen job its lease, and the commit. A task that reaches its limit is excluded and
    /// the queues are read again, so a capped task never blocks the jobs behind it.
    /// </summary>
    private async Task<JobsClaimResult> ClaimAsync(MySqlConnection connection, JobsClaimParams parameters, QueueClaim[] queues,
        CancellationToken ct)
    {
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

        var queueLeft = queues.Select(q => q.Max).ToArray();
        var chosen = new List<Candidate>();
        var total = parameters.Max;
        DateTimeOffset? now = null;
        DateTimeOffset? nextDue = null;
        var first = true;
        try
        {
            while (chosen.Count < total)
            {
                var candidates = new List<Candidate>();
                await using (var select = Command(connection, "", Kind.Hot))
                {
                    var text = new StringBuilder(first ? Begin : "");
                    var exclusion = new StringBuilder();
                    if (excluded.Count > 0)
                    {
                        exclusion.Append(" AND task NOT IN (").Append(MySqlSql.List("x", excluded.Count)).Append(')');
                        var k = 0;
                        foreach (var task in excluded)
                        {
                            select.AddName("@x" + N(k++), task);
                        }
                    }

                    if (chosen.Count > 0)
                    {
                        // Rows this transaction already locked are not skipped by SKIP LOCKED: leave them out.
                        exclusion.Append(" AND seq NOT IN (").Append(MySqlSql.List("c", chosen.Count)).Append(')');
                        for (var k = 0; k < chosen.Count; k++)
                        {
                            select.Add("@c" + N(k), chosen[k].Seq);
                        }
                    }

                    var asked = new List<int>();
                    for (var q = 0; q < queues.Length; q++)
                    {
                        if (queueLeft[q] <= 0)
                        {
                            continue;
                        }

                        asked.Add(q);
                        text.Append(MySqlSql.Format(Sql.ClaimCandidates, N(q), exclusion)).Append(";\n");
                        select.AddName("@q" + N(q), queues[q].Name);
                        select.Add("@l" + N(q), Math.Min(queueLeft[q], total - chosen.Count));
                    }

                    if (first)
                    {
                        foreach (var q in asked)
                        {
                            text.Append(MySqlSql.Format(Sql.NextDue, N(q))).Append(";\n");
                        }
                    }

                    if (asked.Count == 0)
                    {
                        break;
                    }

                    select.CommandText = text.ToString();
                    await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    foreach (var q in asked)
                    {
                        while (await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            var job = ReadJob(reader, out var seq);
                            now ??= GetTime(reader, 24);
                            candidates.Add(new Candidate(job, seq, q));
                        }

                        await reader.NextResultAsync(ct).ConfigureAwait(false);
                    }

                    if (first)
                    {
                        foreach (var _ in asked)
                        {
                            if (await reader.ReadAsync(ct).ConfigureAwait(false) && !reader.IsDBNull(0))
                            {
                                var due = GetTime(reader, 0);
                                nextDue = nextDue is null || due < nextDue ? due : nextDue;
                            }

                            await reader.NextResultAsync(ct).ConfigureAwait(false);
                        }
                    }

                    first = false;
                }

                if (candidates.Count == 0)
                {
                    break;
                }

                // Each queue's candidates arrive in claim order; merge the queues by the same order.
                candidates.Sort(static (a, b) =>
                {
                    var c = ((int)b.Job.Priority).CompareTo((int)a.Job.Priority);
                    if (c == 0)
                    {
                        c = a.Job.DueAt.CompareTo(b.Job.DueAt);
                    }

                    return c != 0 ? c : a.Seq.CompareTo(b.Seq);
                });
                var limitHit = false;
                foreach (var candidate in candidates)
                {
                    if (chosen.Count >= total)
                    {
                        break;
                    }

                    if (queueLeft[candidate.Queue] <= 0)
                    {
                        continue;
                    }

                    var task = candidate.Job.TaskName;
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

                    queueLeft[candidate.Queue]--;
                    chosen.Add(candidate);
                }

                if (!limitHit)
                {
                    break;
                }
            }

            if (first)
            {
                // Nothing was asked for (every queue already full): no transaction was opened.
                return new JobsClaimResult([], null);
            }

            if (BetweenClaimReadAndUpdate is { } pause)
            {
                await pause(connection.ServerThread).ConfigureAwait(false);
            }

            var claimed = new List<JobRecord>(chosen.Count);
            await using (var update = Command(connection, "", Kind.Hot))
            {
                if (chosen.Count == 0)
                {
                    update.CommandText = "COMMIT";
                }
                else
                {
                    var at = now!.Value;
                    var expires = at + parameters.LeaseDuration;
                    var cases = new StringBuilder();
                    for (var k = 0; k < chosen.Count; k++)
                    {
                        var token = Guid.NewGuid();
                        cases.Append(" WHEN @s").Append(N(k)).Append(" THEN @t").Append(N(k));
                        update.Add("@s" + N(k), chosen[k].Seq);
                        update.AddGuid("@t" + N(k), token);
                        claimed.Add(chosen[k].Job with
                        {
                            State = JobState.Running,
                            Attempt = chosen[k].Job.Attempt + 1,
                            StartedAt = at,
                            LeaseExpiresAt = expires,
                            LeaseToken = token,
                            WorkerId = parameters.WorkerId,
                            Progress = null,
                            ProgressMessage = null,
                        });
                    }

                    update.CommandText = MySqlSql.Format(Sql.ClaimJobs, cases, MySqlSql.List("s", chosen.Count)) + "; COMMIT";
                    update.AddTime("@lease_expires_at", expires);
                    update.AddTime("@claim_now", at);
                    update.AddName("@worker_id", parameters.WorkerId);
                }

                await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            TimeSpan? nextDueIn = null;
            if (claimed.Count < parameters.Max && nextDue is { } next)
            {
                // The due times were read against the server's clock in the same batch as the candidates.
                var reference = now ?? await ClockNowOnAsync(connection, ct).ConfigureAwait(false);
                nextDueIn = next > reference ? next - reference : TimeSpan.Zero;
            }

            return new JobsClaimResult(claimed, nextDueIn);
        }
        catch
        {
            if (!first)
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
            }

            throw;
        }
    }

    private async Task<DateTimeOffset> ClockNowOnAsync(MySqlConnection connection, CancellationToken ct)
    {
        await using var command = Command(connection, Sql.Clock, Kind.Hot);
        return new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!, DateTimeKind.Utc));
    }

    // ---------------------------------------------------------------- complete

    public async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Completions.Count == 0)
        {
            return new JobsCompleteResult([]);
        }

        foreach (var completion in parameters.Completions)
        {
            StorageRules.ValidateCompletion(completion);
        }

        var (applied, wake) = await RunAsync(Kind.Hot, (connection, ct) => CompleteAsync(connection, parameters.Completions, ct), cancellationToken)
            .ConfigureAwait(false);
        if (wake)
        {
            signal.Set();
        }

        return new JobsCompleteResult(applied);
    }

    /// <summary>
    /// Two round trips per batch: a locking read of the batch's running jobs and the server's now, then every applied
    /// completion (one UPDATE for all plain successes, one per other outcome), their results, the throughput count and
    /// the commit. A completion applies only where the locked row still holds its lease token.
    /// </summary>
    private async Task<(bool[] Applied, bool Wake)> CompleteAsync(MySqlConnection connection, IReadOnlyList<JobCompletion> completions,
        CancellationToken ct)
    {
        var applied = new bool[completions.Count];
        var ids = completions.Select(c => c.Job.Id).Distinct().ToArray();
        var tokens = new Dictionary<JobId, Guid?>();
        DateTimeOffset now = default;
        try
        {
            await using (var select = Command(connection, "", Kind.Hot))
            {
                select.CommandText = Begin + MySqlSql.Format(Sql.LockRunning, MySqlSql.List("i", ids.Length)) + "; " + Sql.Clock;
                for (var i = 0; i < ids.Length; i++)
                {
                    select.AddGuid("@i" + N(i), ids[i].Value);
                }

                await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    tokens[new JobId(GetGuid(reader, 0))] = GetGuidOrNull(reader, 1);
                }

                await reader.NextResultAsync(ct).ConfigureAwait(false);
                await reader.ReadAsync(ct).ConfigureAwait(false);
                now = GetTime(reader, 0);
            }

            var plain = new List<int>();
            var other = new List<int>();
            for (var i = 0; i < completions.Count; i++)
            {
                var c = completions[i];
                if (tokens.TryGetValue(c.Job.Id, out var token) && token == c.LeaseToken)
                {
                    // A second completion of the same lease in one batch finds it already used.
                    tokens[c.Job.Id] = null;
                    applied[i] = true;
                    var isPlain = c.TargetState == JobState.Succeeded && c.AttemptDelta == 0 && c.Error is null && !c.MarkUnknownTask;
                    (isPlain ? plain : other).Add(i);
                }
            }

            var wake = false;
            await using (var write = Command(connection, "", Kind.Hot))
            {
                var text = new StringBuilder();
                write.AddTime("@done_at", now);
                long succeeded = 0;
                long failed = 0;
                if (plain.Count > 0)
                {
                    text.Append(MySqlSql.Format(Sql.CompleteSucceeded, MySqlSql.List("p", plain.Count))).Append(";\n");
                    for (var k = 0; k < plain.Count; k++)
                    {
                        write.AddGuid("@p" + N(k), completions[plain[k]].Job.Id.Value);
                    }
                }

                foreach (var i in other)
                {
                    var c = completions[i];
                    var waiting = !c.TargetState.IsFinished();
                    text.Append(MySqlSql.Format(Sql.CompleteOne, N(i))).Append(";\n");
                    write.Add("@s" + N(i), waiting ? MySqlSql.Waiting : (int)c.TargetState);
                    write.AddTime("@due" + N(i), waiting && c.Delay is { } delay ? now + delay : null);
                    write.Add("@delta" + N(i), c.AttemptDelta);
                    write.Add("@error" + N(i), c.Error);
                    write.Add("@unknown" + N(i), c.MarkUnknownTask ? 1 : 0);
                    write.AddGuid("@i" + N(i), c.Job.Id.Value);
                    write.AddGuid("@t" + N(i), c.LeaseToken);
                    wake |= waiting && (c.Delay is null || c.Delay <= TimeSpan.Zero);
                }

                for (var i = 0; i < completions.Count; i++)
                {
                    if (!applied[i])
                    {
                        continue;
                    }

                    var c = completions[i];
                    succeeded += c.TargetState == JobState.Succeeded ? 1 : 0;
                    failed += c.Failed ? 1 : 0;
                    if (c.Result is { } value)
                    {
                        // The result shares the completion's transaction: it exists if and only if the fenced completion applied.
                        text.Append(MySqlSql.Format(Sql.SetResult, N(i))).Append(";\n");
                        write.AddGuid("@ri" + N(i), c.Job.Id.Value);
                        write.AddGuid("@rt" + N(i), c.LeaseToken);
                        write.Add("@rv" + N(i), value);
                        write.AddMicroseconds("@rl" + N(i), c.ResultTtl);
                    }
                }

                AppendThroughput(text, write, now, succeeded, failed);
                write.CommandText = text.Append("COMMIT").ToString();
                await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return (applied, wake);
        }
        catch
        {
            await RollbackQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Adds the per-minute throughput upsert to a batch (on a random shard row of the minute).</summary>
    private void AppendThroughput(StringBuilder text, MySqlCommand command, DateTimeOffset now, long succeeded, long failed)
    {
        if (succeeded + failed == 0)
        {
            return;
        }

        text.Append(Sql.CountThroughput).Append(";\n");
        command.AddTime("@minute", StorageRules.MinuteOf(now));
        command.Add("@shard", Random.Shared.Next(MySqlSql.ThroughputShards));
        command.Add("@succeeded", succeeded);
        command.Add("@failed", failed);
    }

    // ---------------------------------------------------------------- leases and progress

    public async ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Leases.Count == 0)
        {
            return new LeasesExtendResult([]);
        }

        var leases = parameters.Leases;
        var held = await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var command = Command(connection, "", Kind.Hot);
            var ids = leases.Select(l => l.Job.Id).Distinct().ToArray();
            var terms = string.Join(" OR ", leases.Select((_, i) => $"(id = @i{N(i)} AND lease_token = @t{N(i)})"));
            // One autocommit UPDATE extends every lease that still matches; the read after it tells which ones do.
            command.CommandText = MySqlSql.Format(Sql.ExtendLeases, MySqlSql.List("d", ids.Length), terms) + ";\n" +
                                  MySqlSql.Format(Sql.SelectLeases, MySqlSql.List("d", ids.Length));
            for (var i = 0; i < ids.Length; i++)
            {
                command.AddGuid("@d" + N(i), ids[i].Value);
            }

            for (var i = 0; i < leases.Count; i++)
            {
                command.AddGuid("@i" + N(i), leases[i].Job.Id.Value);
                command.AddGuid("@t" + N(i), leases[i].LeaseToken);
            }

            command.AddMicroseconds("@lease", parameters.LeaseDuration);
            var current = new HashSet<(JobId, Guid)>();
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                if (GetGuidOrNull(reader, 1) is { } token)
                {
                    current.Add((new JobId(GetGuid(reader, 0)), token));
                }
            }

            return current;
        }, cancellationToken).ConfigureAwait(false);
        return new LeasesExtendResult(leases.Where(l => !held.Contains((l.Job.Id, l.LeaseToken))).ToList());
    }

    public async ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Updates.Count == 0)
        {
            return new JobsProgressResult([]);
        }

        var updates = parameters.Updates;
        var held = await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var command = Command(connection, "", Kind.Hot);
            var text = new StringBuilder();
            for (var i = 0; i < updates.Count; i++)
            {
                text.Append(MySqlSql.Format(Sql.ReportProgress, N(i))).Append(";\n");
                command.Add("@p" + N(i), Math.Clamp(updates[i].Progress, 0, 1));
                command.Add("@m" + N(i), updates[i].Message);
                command.AddGuid("@i" + N(i), updates[i].Lease.Job.Id.Value);
                command.AddGuid("@t" + N(i), updates[i].Lease.LeaseToken);
            }

            var ids = updates.Select(u => u.Lease.Job.Id).Distinct().ToArray();
            text.Append(MySqlSql.Format(Sql.SelectLeases, MySqlSql.List("d", ids.Length)));
            for (var i = 0; i < ids.Length; i++)
            {
                command.AddGuid("@d" + N(i), ids[i].Value);
            }

            command.CommandText = text.ToString();
            var current = new HashSet<(JobId, Guid)>();
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                if (GetGuidOrNull(reader, 1) is { } token)
                {
                    current.Add((new JobId(GetGuid(reader, 0)), token));
                }
            }

            return current;
        }, cancellationToken).ConfigureAwait(false);
        return new JobsProgressResult(updates.Select(u => held.Contains((u.Lease.Job.Id, u.Lease.LeaseToken))).ToArray());
    }

    // ---------------------------------------------------------------- rescue

    public async ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0)
        {
            return new JobsRescueResult([]);
        }

        var rescued = await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            var found = new List<(long Seq, RescuedJob Job)>();
            DateTimeOffset now = default;
            try
            {
                await using (var select = Command(connection, Begin + Sql.RescueCandidates, Kind.Hot))
                {
                    select.Add("@max", parameters.Max);
                    await using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        var attempt = reader.GetInt32(4);
                        var dead = attempt > reader.GetInt32(5);
                        now = GetTime(reader, 7);
                        found.Add((reader.GetInt64(0), new RescuedJob(new JobRef(new JobId(GetGuid(reader, 1)), GetName(reader, 3)), GetName(reader, 2),
                            attempt, dead ? JobState.Dead : JobState.Ready, GetNameOrNull(reader, 6))));
                    }
                }

                await using var write = Command(connection, "", Kind.Hot);
                var text = new StringBuilder();
                var ready = found.Where(f => f.Job.NewState == JobState.Ready).Select(f => f.Seq).ToArray();
                var deadSeqs = found.Where(f => f.Job.NewState == JobState.Dead).Select(f => f.Seq).ToArray();
                // The rows are locked by this transaction, so each re-checking UPDATE changes exactly the rows read.
                if (ready.Length > 0)
                {
                    text.Append(MySqlSql.Format(Sql.RescueToReady, MySqlSql.List("r", ready.Length))).Append(";\n");
                    for (var i = 0; i < ready.Length; i++)
                    {
                        write.Add("@r" + N(i), ready[i]);
                    }
                }

                if (deadSeqs.Length > 0)
                {
                    text.Append(MySqlSql.Format(Sql.RescueToDead, MySqlSql.List("x", deadSeqs.Length))).Append(";\n");
                    for (var i = 0; i < deadSeqs.Length; i++)
                    {
                        write.Add("@x" + N(i), deadSeqs[i]);
                    }
                }

                write.AddTime("@rescue_now", now);
                AppendThroughput(text, write, now, 0, deadSeqs.Length);
                write.CommandText = text.Append("COMMIT").ToString();
                await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return found.Select(f => f.Job).ToList();
            }
            catch
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (rescued.Any(r => r.NewState == JobState.Ready))
        {
            signal.Set();
        }

        return new JobsRescueResult(rescued);
    }
}
