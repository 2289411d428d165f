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
    /// Inserts a batch atomically in a short transaction of the store's own. The batch first goes in as one multi-row INSERT
    /// (one round trip); should an id or a unique key already be taken, the batch is inserted again carefully: the taken ids
    /// and keys are read first (a locking read, so the latest committed rows, under READ COMMITTED, so without gap locks),
    /// their holders returned, and the rest inserted. A unique key that a concurrent insert takes in between makes the
    /// INSERT fail with a duplicate key; the careful round then repeats. The unique index decides; the read only tells whose
    /// key it is.
    /// </summary>
    private async Task<JobInsertOutcome[]> InsertAsync(MySqlConnection connection, MySqlTransaction? transaction, IReadOnlyList<JobInsert> jobs,
        CancellationToken ct)
    {
        if (transaction is not null)
        {
            return await InsertInTransactionAsync(connection, transaction, jobs, ct).ConfigureAwait(false);
        }

        try
        {
            await InsertRowsAsync(connection, jobs, ct).ConfigureAwait(false);
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

        for (var round = 1; ; round++)
        {
            var outcomes = new JobInsertOutcome[jobs.Count];
            var rows = new List<JobInsert>(jobs.Count);
            await using (var check = Command(connection, Begin, Kind.Hot))
            {
                var text = new StringBuilder(check.CommandText);
                var ids = jobs.Select(j => j.Id).Distinct().ToArray();
                text.Append(MySqlSql.Format(Sql.SelectExistingIds, MySqlSql.List("e", ids.Length))).Append(';');
                for (var i = 0; i < ids.Length; i++)
                {
                    check.AddGuid("@e" + N(i), ids[i].Value);
                }

                var keyed = KeyedPairs(jobs);
                if (keyed.Length > 0)
                {
                    text.Append(MySqlSql.Format(Sql.SelectHeldKeys, KeyTerms(check, keyed)));
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
                catch
                {
                    await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                    throw;
                }

                for (var i = 0; i < jobs.Count; i++)
                {
                    var job = jobs[i];
                    if (Taken(job, existing, holders) is { } outcome)
                    {
                        outcomes[i] = outcome;
                        continue;
                    }

                    Take(job, existing, holders);
                    outcomes[i] = new JobInsertOutcome(job.Id, true);
                    rows.Add(job);
                }
            }

            try
            {
                foreach (var (first, count) in Chunks(rows))
                {
                    await InsertStatementAsync(connection, null, rows, first, count, Kind.Hot, "", "", ct).ConfigureAwait(false);
                }

                await using var commit = Command(connection, "COMMIT", Kind.Hot);
                await commit.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return outcomes;
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && round < 20)
            {
                // A concurrent insert took an id or key after the read: read again.
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
            }
            catch
            {
                await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Inserts a batch in the caller's transaction without locking a range that other sessions insert into, so an open
    /// business transaction does not hold up other enqueues (nor deadlock with another one). At the servers' default
    /// isolation, REPEATABLE READ, a locking read of an id or key that is not there locks the gap where it would go, and for
    /// a new, time-ordered id that gap is the range above the newest job, which every other insert needs; an INSERT that
    /// runs into a taken id or key also locks the gap below the row it found. So a batch with unique keys first finds which
    /// of its ids and keys are taken without locking (<see cref="ReadPresentAsync"/>) and leaves those jobs out; a batch
    /// without keys goes straight in. The rest go in as multi-row INSERTs, which lock only the rows they insert. An id given
    /// again, or a key taken in the moment between the read and the INSERT, makes an INSERT fail with a duplicate key; the
    /// server rolls back that statement only, and from there the batch goes in row by row, each duplicate resolved by
    /// <see cref="DuplicateOutcomeAsync"/> (such a failed INSERT keeps its gap lock until the caller's transaction ends).
    /// Outcomes are those of the store's own transaction: an id that exists or came earlier in the batch is idempotent, a
    /// held key returns its holder's id.
    /// </summary>
    private async Task<JobInsertOutcome[]> InsertInTransactionAsync(MySqlConnection connection, MySqlTransaction transaction,
        IReadOnlyList<JobInsert> jobs, CancellationToken ct)
    {
        var present = new HashSet<JobId>();
        var presentHolders = new Dictionary<(string Queue, string Key), JobId>();
        if (jobs.Any(j => j.UniqueKey is not null))
        {
            await ReadPresentAsync(connection, transaction, jobs, present, presentHolders, ct).ConfigureAwait(false);
        }

        var outcomes = new JobInsertOutcome[jobs.Count];
        var taken = new HashSet<JobId>(present);
        var holders = new Dictionary<(string Queue, string Key), JobId>(presentHolders);
        var at = new List<int>(jobs.Count);
        var rows = new List<JobInsert>(jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
        {
            if (Taken(jobs[i], taken, holders) is { } outcome)
            {
                outcomes[i] = outcome;
                continue;
            }

            Take(jobs[i], taken, holders);
            outcomes[i] = new JobInsertOutcome(jobs[i].Id, true);
            at.Add(i);
            rows.Add(jobs[i]);
        }

        foreach (var (first, count) in Chunks(rows))
        {
            try
            {
                await InsertStatementAsync(connection, transaction, rows, first, count, Kind.Admin, "", "", ct).ConfigureAwait(false);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                // The jobs before this statement's first row are settled (their rows are in, or they are not to be inserted).
                await InsertOneByOneAsync(connection, transaction, jobs, at[first], outcomes, present, presentHolders, ct).ConfigureAwait(false);
                break;
            }
        }

        return outcomes;
    }

    /// <summary>
    /// Inserts <paramref name="jobs"/> from <paramref name="from"/> on one statement each, in the caller's transaction, after
    /// a multi-row INSERT found an id or key taken that the read before it could not see.
    /// </summary>
    private async Task InsertOneByOneAsync(MySqlConnection connection, MySqlTransaction transaction, IReadOnlyList<JobInsert> jobs, int from,
        JobInsertOutcome[] outcomes, HashSet<JobId> present, Dictionary<(string Queue, string Key), JobId> presentHolders, CancellationToken ct)
    {
        var taken = new HashSet<JobId>(present);
        var holders = new Dictionary<(string Queue, string Key), JobId>(presentHolders);
        for (var i = 0; i < from; i++)
        {
            if (outcomes[i].Inserted)
            {
                Take(jobs[i], taken, holders);
            }
        }

        for (var i = from; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (Taken(job, taken, holders) is { } outcome)
            {
                outcomes[i] = outcome;
                continue;
            }

            try
            {
                await InsertStatementAsync(connection, transaction, [job], 0, 1, Kind.Admin, "", "", ct).ConfigureAwait(false);
                Take(job, taken, holders);
                outcomes[i] = new JobInsertOutcome(job.Id, true);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                outcomes[i] = await DuplicateOutcomeAsync(connection, transaction, job, ct).ConfigureAwait(false);
                if (outcomes[i].Id == job.Id)
                {
                    taken.Add(job.Id);
                }
                else
                {
                    holders[(job.Queue, job.UniqueKey!)] = outcomes[i].Id;
                }
            }
        }
    }

    /// <summary>
    /// Whose row a single-row INSERT in the caller's transaction ran into; the failed INSERT keeps a lock on that row, so
    /// it stays. Without a key it is the id. Otherwise the id, if a read without locks sees it (this transaction's own row,
    /// or one committed before its snapshot); else the key's holder, read with a lock (the row is there: only it is
    /// locked); else the id (committed after the snapshot).
    /// </summary>
    private async Task<JobInsertOutcome> DuplicateOutcomeAsync(MySqlConnection connection, MySqlTransaction transaction, JobInsert job,
        CancellationToken ct)
    {
        if (job.UniqueKey is null)
        {
            return new JobInsertOutcome(job.Id, false);
        }

        await using (var byId = Command(connection, MySqlSql.Format(Sql.SelectPresentById, "@e0"), Kind.Admin, transaction))
        {
            byId.AddGuid("@e0", job.Id.Value);
            if (await byId.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
            {
                return new JobInsertOutcome(job.Id, false);
            }
        }

        await using var byKey = Command(connection, "", Kind.Admin, transaction);
        byKey.CommandText = MySqlSql.Format(Sql.SelectHeldKeys, KeyTerms(byKey, [(job.Queue, job.UniqueKey)]));
        await using var reader = await byKey.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false)
            ? new JobInsertOutcome(new JobId(GetGuid(reader, 0)), false)
            : new JobInsertOutcome(job.Id, false);
    }

    /// <summary>
    /// Which of the batch's ids exist and who holds its unique keys, without locking a row that is not there: the caller's
    /// transaction reads without locks (its snapshot and its own rows), a pooled connection reads the latest committed
    /// rows, and the rows either found are then locked in the caller's transaction by primary key (rows that are there: no
    /// gap is locked), which also reads their latest version.
    /// </summary>
    private async Task ReadPresentAsync(MySqlConnection connection, MySqlTransaction transaction, IReadOnlyList<JobInsert> jobs,
        HashSet<JobId> present, Dictionary<(string Queue, string Key), JobId> holders, CancellationToken ct)
    {
        var seqs = new HashSet<long>();
        var ids = jobs.Select(j => j.Id).Distinct().ToArray();
        var keyed = KeyedPairs(jobs);

        async Task<bool> ReadAsync(MySqlConnection on, MySqlTransaction? within, Kind kind, CancellationToken token)
        {
            await using var read = Command(on, "", kind, within);
            for (var i = 0; i < ids.Length; i++)
            {
                read.AddGuid("@e" + N(i), ids[i].Value);
            }

            read.CommandText = MySqlSql.Format(Sql.SelectPresentById, MySqlSql.List("e", ids.Length)) + " UNION " +
                               MySqlSql.Format(Sql.SelectPresentByKey, KeyTerms(read, keyed));
            await using var reader = await read.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                seqs.Add(reader.GetInt64(0));
            }

            return true;
        }

        await ReadAsync(connection, transaction, Kind.Admin, ct).ConfigureAwait(false);
        await RunAsync(Kind.Hot, (pooled, token) => ReadAsync(pooled, null, Kind.Hot, token), ct).ConfigureAwait(false);
        if (seqs.Count == 0)
        {
            return;
        }

        await using var lockRows = Command(connection, MySqlSql.Format(Sql.LockPresent, MySqlSql.List("s", seqs.Count)), Kind.Admin, transaction);
        var k = 0;
        foreach (var seq in seqs)
        {
            lockRows.Add("@s" + N(k++), seq);
        }

        await using var rows = await lockRows.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await rows.ReadAsync(ct).ConfigureAwait(false))
        {
            var id = new JobId(GetGuid(rows, 0));
            present.Add(id);
            if (!rows.IsDBNull(2))
            {
                holders[(GetName(rows, 1), GetName(rows, 2))] = id;
            }
        }
    }

    /// <summary>The outcome of a job whose id is taken (it exists, or comes earlier in the batch) or whose key is held; otherwise null.</summary>
    private static JobInsertOutcome? Taken(JobInsert job, HashSet<JobId> taken, Dictionary<(string Queue, string Key), JobId> holders)
    {
        if (taken.Contains(job.Id))
        {
            return new JobInsertOutcome(job.Id, false);
        }

        return job.UniqueKey is not null && holders.TryGetValue((job.Queue, job.UniqueKey), out var holder)
            ? new JobInsertOutcome(holder, false)
            : null;
    }

    /// <summary>Records that <paramref name="job"/> is inserted: its id is taken and it holds its key.</summary>
    private static void Take(JobInsert job, HashSet<JobId> taken, Dictionary<(string Queue, string Key), JobId> holders)
    {
        taken.Add(job.Id);
        if (job.UniqueKey is not null)
        {
            holders[(job.Queue, job.UniqueKey)] = job.Id;
        }
    }

    /// <summary>The distinct (queue, unique key) pairs of a batch.</summary>
    private static (string Queue, string Key)[] KeyedPairs(IReadOnlyList<JobInsert> jobs) =>
        jobs.Where(j => j.UniqueKey is not null).Select(j => (j.Queue, Key: j.UniqueKey!)).Distinct().ToArray();

    /// <summary>A condition that matches the rows holding <paramref name="keyed"/> through the unique index, its parameters added to <paramref name="command"/>.</summary>
    private static string KeyTerms(MySqlCommand command, (string Queue, string Key)[] keyed)
    {
        for (var i = 0; i < keyed.Length; i++)
        {
            command.AddName("@kq" + N(i), keyed[i].Queue);
            command.Add("@kh" + N(i), SHA256.HashData(Encoding.UTF8.GetBytes(keyed[i].Key)));
        }

        return string.Join(" OR ", keyed.Select((_, i) => $"(queue = @kq{N(i)} AND unique_hash = @kh{N(i)})"));
    }

    /// <summary>
    /// Multi-row INSERTs of at most <see cref="MaxInsertBytes"/> each; more than one statement runs in a transaction of its
    /// own (a single statement is atomic by itself).
    /// </summary>
    private async Task InsertRowsAsync(MySqlConnection connection, IReadOnlyList<JobInsert> jobs, CancellationToken ct)
    {
        var chunks = Chunks(jobs);
        var wrap = chunks.Count > 1;
        try
        {
            for (var c = 0; c < chunks.Count; c++)
            {
                var (first, count) = chunks[c];
                await InsertStatementAsync(connection, null, jobs, first, count, Kind.Hot, wrap && c == 0 ? Begin : "",
                    wrap && c == chunks.Count - 1 ? "; COMMIT" : "", ct).ConfigureAwait(false);
            }
        }
        catch when (wrap)
        {
            await RollbackQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The batch cut into runs of rows whose statement stays within <see cref="MaxInsertBytes"/> (each at least one row).</summary>
    private static List<(int Start, int Count)> Chunks(IReadOnlyList<JobInsert> jobs)
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

        if (jobs.Count > start)
        {
            chunks.Add((start, jobs.Count - start));
        }

        return chunks;
    }

    /// <summary>One multi-row INSERT of <paramref name="count"/> jobs from <paramref name="first"/>, between <paramref name="before"/> and <paramref name="after"/>.</summary>
    private async Task InsertStatementAsync(MySqlConnection connection, MySqlTransaction? transaction, IReadOnlyList<JobInsert> jobs, int first,
        int count, Kind kind, string before, string after, CancellationToken ct)
    {
        await using var insert = Command(connection, "", kind, transaction);
        var text = new StringBuilder(before).Append(Sql.InsertJobsHead);
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

        insert.CommandText = text.Append(after).ToString();
        await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
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
    /// <summary>
    /// Whether the queue's claims read one index range per priority (<see cref="MySqlSql.ClaimCandidates"/>), so jobs
    /// scheduled for later are never read: until the queue's first claim of this store instance, and after a claim that
    /// found a job scheduled for later which one range would have read — it came back short, or took jobs of a lower
    /// priority than the highest one with a scheduled job. Otherwise one range (<see cref="MySqlSql.ClaimCandidatesOneRange"/>).
    /// </summary>
    internal bool ReadsRangePerPriority(string queue) => !oneRangeQueues.ContainsKey(queue);

    private void RememberRead(string queue, bool rangePerPriority)
    {
        if (rangePerPriority)
        {
            oneRangeQueues.TryRemove(queue, out _);
        }
        else
        {
            if (oneRangeQueues.Count >= MaxRememberedQueues)
            {
                // Queue names made up at run time: forgetting them only costs their next claim the safe, slower read.
                oneRangeQueues.Clear();
            }

            oneRangeQueues[queue] = 0;
        }
    }

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
        // Per queue, this round: how many candidates its read was asked for, how many it returned, and where its last sorts.
        var limits = new int[queues.Length];
        var returned = new int[queues.Length];
        var lastAt = new int[queues.Length];
        // Per queue, at the first read: how many jobs were asked for and read, and the lowest priority read.
        var asked0 = new int[queues.Length];
        var read0 = new int[queues.Length];
        var lowest0 = new int[queues.Length];
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
                        var candidatesSql = ReadsRangePerPriority(queues[q].Name) ? Sql.ClaimCandidates : Sql.ClaimCandidatesOneRange;
                        var limit = Math.Min(queueLeft[q], total - chosen.Count);
                        if (first)
                        {
                            asked0[q] = limit;
                            lowest0[q] = int.MaxValue;
                        }

                        text.Append(MySqlSql.Format(candidatesSql, N(q), exclusion)).Append(";\n");
                        select.AddName("@q" + N(q), queues[q].Name);
                        select.Add("@l" + N(q), limit);
                        limits[q] = limit;
                        returned[q] = 0;
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
                            returned[q]++;
                            if (first)
                            {
                                read0[q]++;
                                lowest0[q] = Math.Min(lowest0[q], (int)job.Priority);
                            }
                        }

                        await reader.NextResultAsync(ct).ConfigureAwait(false);
                    }

                    if (first)
                    {
                        foreach (var q in asked)
                        {
                            // One range is safe for the next claim when it would stop before any scheduled job: nothing is
                            // scheduled, or this claim was filled with jobs of no lower priority than the highest scheduled one.
                            var rangePerPriority = false;
                            if (await reader.ReadAsync(ct).ConfigureAwait(false) && !reader.IsDBNull(0))
                            {
                                var due = GetTime(reader, 0);
                                nextDue = nextDue is null || due < nextDue ? due : nextDue;
                                rangePerPriority = read0[q] < asked0[q] || lowest0[q] < Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
                            }

                            RememberRead(queues[q].Name, rangePerPriority);
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
                for (var c = 0; c < candidates.Count; c++)
                {
                    lastAt[candidates[c].Queue] = c;
                }

                var limitHit = false;
                // Candidates past this position are left to the next round's read. A queue whose read returned all it was
                // asked for may have more jobs waiting right behind its last candidate; once one of its candidates is
                // skipped (its task reached its limit), those unread jobs can come before the other queues' later
                // candidates in claim order, so nothing after its last candidate is taken until the queues are read again.
                var boundary = int.MaxValue;
                for (var c = 0; c < candidates.Count && c <= boundary; c++)
                {
                    var candidate = candidates[c];
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
                        if (returned[candidate.Queue] == limits[candidate.Queue])
                        {
                            boundary = Math.Min(boundary, lastAt[candidate.Queue]);
                        }

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
