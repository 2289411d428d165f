using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.MySql.Internal;

namespace TypedJobs.Storage.MySql.Tests;

/// <summary>
/// What is particular to the MySQL store: the server's clock, the claim's index, table prefixes, large batches split into
/// several statements, the in-process wake-up, and versioned migrations (expand, contract, a schema that needs a newer
/// version).
/// </summary>
public sealed class MySqlStoreTests : IAsyncLifetime
{
    private readonly List<MySqlStorage> opened = [];
    private string database = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => database = await MySqlTestServer.CreateDatabaseAsync("store");

    public async ValueTask DisposeAsync()
    {
        foreach (var storage in opened)
        {
            await storage.DisposeAsync();
        }

        MySqlConnection.ClearAllPools();
        await MySqlTestServer.DropDatabaseAsync(database);
    }

    private MySqlStorage Open(string prefix = "typedjobs_", IReadOnlyList<MySqlSql.Migration>? migrations = null, bool contract = false,
        TimeProvider? clock = null)
    {
        var storage = new MySqlStorage(new MySqlStorageOptions
        {
            ConnectionString = MySqlTestServer.For(database),
            TablePrefix = prefix,
            ApplyContractMigrations = contract,
        }, clock, NullLogger.Instance, migrations);
        opened.Add(storage);
        return storage;
    }

    private static JobInsert NewJob(string queue = "default", byte[]? payload = null, string? task = "t") => new()
    {
        Id = JobId.New(),
        TaskName = task!,
        Queue = queue,
        Payload = payload ?? [1],
    };

    [Fact]
    public async Task ServerClock_IsTheStoresClock_ForNowAndForEveryStoredTime()
    {
        // The store's sessions run in a far-away time zone: UTC_TIMESTAMP and DATETIME columns must not care.
        await MySqlTestServer.ExecuteAsync("SET GLOBAL time_zone = '+09:00'");
        try
        {
            var storage = Open();
            await storage.InitializeAsync(Ct);
            Assert.Equal("+09:00", await MySqlTestServer.ScalarAsync("SELECT @@SESSION.time_zone"));
            var before = await storage.ClockNowAsync(Ct);
            var id = (await storage.JobsInsertAsync(new JobsInsertParams([NewJob() with { Delay = TimeSpan.FromMinutes(5) }]), Ct)).Outcomes[0].Id;
            var after = await storage.ClockNowAsync(Ct);
            var job = (await storage.JobsGetAsync(new JobsGetParams(id), Ct)).Job!;
            var serverUtc = (DateTime)(await MySqlTestServer.ScalarAsync("SELECT UTC_TIMESTAMP(6)"))!;

            Assert.InRange(job.CreatedAt, before, after);
            Assert.Equal(job.CreatedAt + TimeSpan.FromMinutes(5), job.DueAt);
            Assert.Equal(JobState.Scheduled, job.State);
            Assert.InRange(new DateTimeOffset(serverUtc, TimeSpan.Zero) - after, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        }
        finally
        {
            await MySqlTestServer.ExecuteAsync("SET GLOBAL time_zone = 'SYSTEM'");
        }
    }

    [Fact]
    public async Task Claim_ReadsTheClaimIndexInClaimOrder_SortingOnlyTheRowsItTook()
    {
        // Every range of the claim reads the claim index in its order (no sort of the index's rows); only the union of
        // what the ranges took, at most six limits' rows, is sorted.
        var storage = Open();
        await storage.InitializeAsync(Ct);
        await using var connection = new MySqlConnection(MySqlTestServer.For(database));
        await connection.OpenAsync(Ct);
        await using var explain = connection.CreateCommand();
        explain.CommandText = "EXPLAIN " + MySqlSql.Format(storage.Sql.ClaimCandidates, "0", "");
        explain.Parameters.AddWithValue("@q0", "default"u8.ToArray());
        explain.Parameters.AddWithValue("@l0", 10);
        var ranges = 0;
        await using var reader = await explain.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            var table = reader["table"] as string ?? "";
            var extra = reader["Extra"] as string ?? "";
            if (table.EndsWith("jobs", StringComparison.Ordinal))
            {
                ranges++;
                Assert.Equal("claim", reader["key"]);
                Assert.DoesNotContain("filesort", extra, StringComparison.OrdinalIgnoreCase);
            }
            else if (!table.StartsWith("<union", StringComparison.Ordinal))
            {
                Assert.DoesNotContain("filesort", extra, StringComparison.OrdinalIgnoreCase);
            }
        }

        Assert.Equal(6, ranges);
    }

    [Fact]
    public async Task Claim_OfAQueueWithNothingScheduled_ReadsTheClaimIndexAsOneRangeInClaimOrder_WithoutASort()
    {
        var storage = Open();
        await storage.InitializeAsync(Ct);
        await using var connection = new MySqlConnection(MySqlTestServer.For(database));
        await connection.OpenAsync(Ct);
        await using var explain = connection.CreateCommand();
        explain.CommandText = "EXPLAIN " + MySqlSql.Format(storage.Sql.ClaimCandidatesOneRange, "0", "");
        explain.Parameters.AddWithValue("@q0", "default"u8.ToArray());
        explain.Parameters.AddWithValue("@l0", 10);
        var ranges = 0;
        await using var reader = await explain.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            var table = reader["table"] as string ?? "";
            Assert.DoesNotContain("filesort", reader["Extra"] as string ?? "", StringComparison.OrdinalIgnoreCase);
            if (table.EndsWith("jobs", StringComparison.Ordinal))
            {
                ranges++;
                Assert.Equal("claim", reader["key"]);
            }
        }

        Assert.Equal(1, ranges);
    }

    [Fact]
    public async Task Claim_ReadsARangePerPriority_WhenOneRangeWouldHaveReadAScheduledJob_AndOneRangeOtherwise()
    {
        // One range reads, in claim order, every job scheduled for later that lies before the last job it takes: those of
        // a higher priority than it, and those of its own priority once the due ones are taken. Each claim's next-due read
        // decides which read the queue's next claim uses.
        var storage = Open();
        await storage.InitializeAsync(Ct);
        JobsClaimParams Claim(int max) => new() { WorkerId = "w", Queues = [new QueueClaim("default", max)], Max = max, LeaseDuration = TimeSpan.FromMinutes(1) };
        Assert.True(storage.ReadsRangePerPriority("default"), "a queue not claimed from yet gets the safe read");

        // Nothing scheduled: one range.
        await storage.JobsInsertAsync(new JobsInsertParams([NewJob()]), Ct);
        Assert.Single((await storage.JobsClaimAsync(Claim(10), Ct)).Jobs);
        Assert.False(storage.ReadsRangePerPriority("default"));

        // A job scheduled at the claimed priority, and the claim came back full: the range stopped before it.
        await storage.JobsInsertAsync(new JobsInsertParams([NewJob() with { Delay = TimeSpan.FromHours(1) }, NewJob(), NewJob(), NewJob()]), Ct);
        Assert.Equal(2, (await storage.JobsClaimAsync(Claim(2), Ct)).Jobs.Count);
        Assert.False(storage.ReadsRangePerPriority("default"));

        // The same, but short: the range went on into the scheduled job.
        Assert.Single((await storage.JobsClaimAsync(Claim(2), Ct)).Jobs);
        Assert.True(storage.ReadsRangePerPriority("default"));

        // Full again, but a job of a higher priority is scheduled: one range would read it before the due ones.
        await storage.JobsInsertAsync(new JobsInsertParams([NewJob(), NewJob(), NewJob() with { Priority = Priority.Critical, Delay = TimeSpan.FromHours(1) }]), Ct);
        Assert.Single((await storage.JobsClaimAsync(Claim(1), Ct)).Jobs);
        Assert.True(storage.ReadsRangePerPriority("default"));
        Assert.True(storage.ReadsRangePerPriority("never-claimed"));
    }

    [Fact]
    public async Task NextDue_ReadsOneIndexEntryPerPriority_HoweverManyJobsAreScheduled()
    {
        // Every claim asks for the queue's next due time; thousands of scheduled jobs at one priority must not be read
        // for it (a MIN over the claim index's range read them all, a few milliseconds per claim per thousand jobs).
        var storage = Open();
        await storage.InitializeAsync(Ct);
        for (var batch = 0; batch < 4; batch++)
        {
            await storage.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 500)
                .Select(i => NewJob() with { Priority = Priority.Low, Delay = TimeSpan.FromHours(1) + TimeSpan.FromSeconds(batch * 500 + i) })
                .ToArray()), Ct);
        }

        var soonest = (await storage.JobsInsertAsync(new JobsInsertParams([NewJob() with { Priority = Priority.High, Delay = TimeSpan.FromMinutes(30) }]), Ct))
            .Outcomes[0].Id;
        var expected = (await storage.JobsGetAsync(new JobsGetParams(soonest), Ct)).Job!.DueAt;
        await using var connection = new MySqlConnection(MySqlTestServer.For(database));
        await connection.OpenAsync(Ct);

        var before = await IndexReadsAsync(connection);
        await using var next = connection.CreateCommand();
        next.CommandText = MySqlSql.Format(storage.Sql.NextDue, "0");
        next.Parameters.AddWithValue("@q0", "default"u8.ToArray());
        var due = (DateTime)(await next.ExecuteScalarAsync(Ct))!;
        var reads = await IndexReadsAsync(connection) - before;

        Assert.Equal(expected.UtcDateTime, DateTime.SpecifyKind(due, DateTimeKind.Utc));
        Assert.InRange(reads, 0, 20);
    }

    [Fact]
    public async Task Claim_ReadsABoundedNumberOfIndexEntries_HoweverManyJobsAreScheduled()
    {
        // 2,000 jobs scheduled an hour ahead, in every priority, and one due job of normal priority. Read in claim order
        // (priority first), the claim index puts the scheduled critical and high jobs before the due one and the scheduled
        // normal and low ones after it: a claim that filters on the due time there reads (and locks) all of them.
        var storage = Open();
        await storage.InitializeAsync(Ct);
        Priority[] priorities = [Priority.Critical, Priority.High, Priority.Normal, Priority.Low];
        foreach (var priority in priorities)
        {
            await storage.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 500)
                .Select(i => NewJob() with { Priority = priority, Delay = TimeSpan.FromHours(1) + TimeSpan.FromSeconds(i) })
                .ToArray()), Ct);
        }

        var due = (await storage.JobsInsertAsync(new JobsInsertParams([NewJob() with { Priority = Priority.Normal }]), Ct)).Outcomes[0].Id;
        await using var connection = new MySqlConnection(MySqlTestServer.For(database));
        await connection.OpenAsync(Ct);

        var before = await IndexReadsAsync(connection);
        await using var claim = connection.CreateCommand();
        claim.CommandText = MySqlSql.Format(storage.Sql.ClaimCandidates, "0", "");
        claim.Parameters.AddWithValue("@q0", "default"u8.ToArray());
        claim.Parameters.AddWithValue("@l0", 10);
        var found = new List<Guid>();
        await using (var reader = await claim.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                found.Add(MySqlRows.GetGuid(reader, 1));
            }
        }

        var reads = await IndexReadsAsync(connection) - before;
        var claimed = await storage.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("default", 10)],
            Max = 10,
            LeaseDuration = TimeSpan.FromMinutes(1),
        }, Ct);

        Assert.Equal([due.Value], found);
        Assert.InRange(reads, 0, 20);
        Assert.Equal(due, Assert.Single(claimed.Jobs).Id);
    }

    [Fact]
    public async Task Prune_ReadsOnlyTheJobsItDeletes_HoweverManyHaveFinished()
    {
        // 2,000 succeeded jobs, all old enough to prune, the ten oldest finished a minute before the others. A prune of ten
        // over both finished states must read about ten rows: as one DELETE ... WHERE state IN (...) ORDER BY finished_at
        // LIMIT, MariaDB read every finished job (and under REPEATABLE READ locked them all while it ran, holding up
        // completions, claims and inserts). The reads counted are those of the store's own call: it prunes on a data source
        // of one connection that keeps its session between uses, whose counters the test reads before and after.
        var clock = new FakeClock();
        var seed = Open(clock: clock);
        await seed.InitializeAsync(Ct);
        var oldest = await FinishAsync(seed, JobState.Succeeded, 10);
        clock.Advance(TimeSpan.FromMinutes(1));
        await FinishAsync(seed, JobState.Succeeded, 1990);
        clock.Advance(TimeSpan.FromMinutes(1));

        await using var session = new MySqlDataSource(MySqlTestServer.For(database, b =>
        {
            b.MaximumPoolSize = 1;
            b.ConnectionReset = false;
        }));
        var storage = new MySqlStorage(new MySqlStorageOptions { DataSource = session }, clock, NullLogger.Instance);
        opened.Add(storage);
        await storage.InitializeAsync(Ct);

        var (deleted, reads) = await PruneCountingReadsAsync(storage, session, 10);

        Assert.Equal(10, deleted);
        Assert.InRange(reads, 0, 50);
        foreach (var id in oldest)
        {
            Assert.Null((await seed.JobsGetAsync(new JobsGetParams(id), Ct)).Job);
        }

        Assert.Equal(1990, (await seed.JobsCountAsync(new JobsCountParams(new JobFilter()), Ct)).Count);

        // Whatever the table's statistics say, the call reads the same.
        await MySqlTestServer.ExecuteAsync("ANALYZE TABLE typedjobs_jobs", database);
        (deleted, reads) = await PruneCountingReadsAsync(storage, session, 10);

        Assert.Equal(10, deleted);
        Assert.InRange(reads, 0, 50);
        Assert.Equal(1980, (await seed.JobsCountAsync(new JobsCountParams(new JobFilter()), Ct)).Count);
    }

    [Fact]
    public async Task Prune_DeletesUpToItsMaximumAcrossTheStates_OldestFirst_AndKeepsJobsNewerThanTheAge()
    {
        // Under two table prefixes: five cancelled jobs finished two hours ago, five succeeded ones a minute later, and one
        // of each just now.
        var clock = new FakeClock();
        var whole = Open("whole_", clock: clock);
        var part = Open("part_", clock: clock);
        foreach (var storage in new[] { whole, part })
        {
            await storage.InitializeAsync(Ct);
        }

        foreach (var storage in new[] { whole, part })
        {
            await FinishAsync(storage, JobState.Cancelled, 5);
        }

        clock.Advance(TimeSpan.FromMinutes(1));
        foreach (var storage in new[] { whole, part })
        {
            await FinishAsync(storage, JobState.Succeeded, 5);
        }

        clock.Advance(TimeSpan.FromHours(2));
        var recent = new Dictionary<MySqlStorage, JobId[]>();
        foreach (var storage in new[] { whole, part })
        {
            recent[storage] = [.. await FinishAsync(storage, JobState.Succeeded, 1), .. await FinishAsync(storage, JobState.Cancelled, 1)];
        }

        var states = new[] { JobState.Succeeded, JobState.Cancelled };
        var age = TimeSpan.FromHours(1);

        // A maximum that covers both states deletes every old job of both in one call.
        Assert.Equal(10, (await whole.JobsPruneAsync(new JobsPruneParams(states, age, 10), Ct)).Deleted);
        // A smaller one stops at it, oldest first across the states (the cancelled jobs, though the succeeded state is
        // asked first, then two succeeded ones); the next call takes the rest.
        Assert.Equal(7, (await part.JobsPruneAsync(new JobsPruneParams(states, age, 7), Ct)).Deleted);
        Assert.Equal(4, await CountAsync(part, JobState.Succeeded));
        Assert.Equal(1, await CountAsync(part, JobState.Cancelled));
        Assert.Equal(3, (await part.JobsPruneAsync(new JobsPruneParams(states, age, 7), Ct)).Deleted);
        Assert.Equal(0, (await part.JobsPruneAsync(new JobsPruneParams(states, age, 7), Ct)).Deleted);

        foreach (var storage in new[] { whole, part })
        {
            Assert.Equal(2, (await storage.JobsCountAsync(new JobsCountParams(new JobFilter()), Ct)).Count);
            foreach (var id in recent[storage])
            {
                Assert.NotNull((await storage.JobsGetAsync(new JobsGetParams(id), Ct)).Job);
            }
        }

        static async Task<long> CountAsync(MySqlStorage storage, JobState state) =>
            (await storage.JobsCountAsync(new JobsCountParams(new JobFilter { State = state }), Ct)).Count;
    }

    [Fact]
    public async Task Prune_DeletesNoJobRetriedOrRetriedAndFinishedAgainBetweenItsReadAndItsDelete()
    {
        // Three jobs cancelled two hours ago. Between the prune's read and its delete, one is retried (waiting again) and
        // another retried, run and cancelled again just now: both are no longer old finished jobs and must stay.
        var clock = new FakeClock();
        var storage = Open(clock: clock);
        await storage.InitializeAsync(Ct);
        var ids = await FinishAsync(storage, JobState.Cancelled, 3);
        clock.Advance(TimeSpan.FromHours(2));
        storage.BetweenPruneReadAndDelete = async () =>
        {
            Assert.True((await storage.JobsRetryAsync(new JobsRetryParams(new JobRef(ids[0], "default")), Ct)).Retried);
            Assert.True((await storage.JobsRetryAsync(new JobsRetryParams(new JobRef(ids[1], "default")), Ct)).Retried);
            Assert.True((await storage.JobsCancelAsync(new JobsCancelParams(new JobRef(ids[1], "default")), Ct)).Cancelled);
        };

        var pruned = await storage.JobsPruneAsync(new JobsPruneParams([JobState.Cancelled], TimeSpan.FromHours(1), 10), Ct);
        storage.BetweenPruneReadAndDelete = null;

        Assert.Equal(1, pruned.Deleted);
        Assert.Equal(JobState.Ready, (await storage.JobsGetAsync(new JobsGetParams(ids[0]), Ct)).Job?.State);
        Assert.Equal(JobState.Cancelled, (await storage.JobsGetAsync(new JobsGetParams(ids[1]), Ct)).Job?.State);
        Assert.Null((await storage.JobsGetAsync(new JobsGetParams(ids[2]), Ct)).Job);
    }

    /// <summary>Inserts <paramref name="count"/> jobs and finishes them now, succeeded (claimed, then completed) or cancelled while waiting.</summary>
    private static async Task<JobId[]> FinishAsync(MySqlStorage storage, JobState state, int count)
    {
        var ids = (await storage.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, count).Select(_ => NewJob()).ToArray()), Ct))
            .Outcomes.Select(o => o.Id).ToArray();
        if (state == JobState.Cancelled)
        {
            foreach (var id in ids)
            {
                Assert.True((await storage.JobsCancelAsync(new JobsCancelParams(new JobRef(id, "default")), Ct)).Cancelled);
            }

            return ids;
        }

        var claimed = await storage.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("default", count)],
            Max = count,
            LeaseDuration = TimeSpan.FromMinutes(1),
        }, Ct);
        Assert.Equal(count, claimed.Jobs.Count);
        await storage.JobsCompleteAsync(new JobsCompleteParams(claimed.Jobs.Select(j => new JobCompletion
        {
            Job = j.Ref,
            LeaseToken = j.LeaseToken!.Value,
            TargetState = state,
        }).ToArray()), Ct);
        return ids;
    }

    [Fact]
    public async Task BulkAction_WithACursor_ReadsOnlyPastIt_NotTheJobsEarlierBatchesChanged()
    {
        // 2,000 waiting jobs; a first batch cancels 1,000. The next batch of ten, given the first one's cursor, must read
        // about ten rows: started at the beginning, it read (and locked) the thousand cancelled jobs again.
        var seed = Open();
        await seed.InitializeAsync(Ct);
        for (var i = 0; i < 4; i++)
        {
            await seed.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 500).Select(_ => NewJob()).ToArray()), Ct);
        }

        await using var session = new MySqlDataSource(MySqlTestServer.For(database, b =>
        {
            b.MaximumPoolSize = 1;
            b.ConnectionReset = false;
        }));
        var storage = new MySqlStorage(new MySqlStorageOptions { DataSource = session }, new FakeClock(), NullLogger.Instance);
        opened.Add(storage);
        await storage.InitializeAsync(Ct);
        var first = await storage.JobsBulkAsync(new JobsBulkParams(JobsBulkAction.Cancel, new JobFilter(), 1000), Ct);

        var (connection, before) = await SessionReadsAsync(session);
        var second = await storage.JobsBulkAsync(new JobsBulkParams(JobsBulkAction.Cancel, new JobFilter(), 10) { Cursor = first.NextCursor }, Ct);
        var (sameConnection, after) = await SessionReadsAsync(session);

        Assert.Equal(1000, first.Jobs.Count);
        Assert.Equal(10, second.Jobs.Count);
        Assert.Equal(connection, sameConnection);
        Assert.InRange(after - before, 0, 100);
    }

    /// <summary>
    /// Prunes old succeeded and cancelled jobs through <paramref name="storage"/>, which runs on <paramref name="session"/>,
    /// a data source of one connection that keeps its session between uses; returns the jobs deleted and the rows that
    /// session read meanwhile.
    /// </summary>
    private static async Task<(int Deleted, long Reads)> PruneCountingReadsAsync(MySqlStorage storage, MySqlDataSource session, int max)
    {
        var (connection, before) = await SessionReadsAsync(session);
        var deleted = (await storage.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded, JobState.Cancelled], TimeSpan.Zero, max), Ct)).Deleted;
        var (sameConnection, after) = await SessionReadsAsync(session);
        Assert.Equal(connection, sameConnection);
        return (deleted, after - before);
    }

    /// <summary>The server's id of the one connection of <paramref name="session"/>, and the rows it has read (<see cref="RowReadsAsync"/>).</summary>
    private static async Task<(long Connection, long Reads)> SessionReadsAsync(MySqlDataSource session)
    {
        await using var connection = await session.OpenConnectionAsync(Ct);
        await using var id = connection.CreateCommand();
        id.CommandText = "SELECT CONNECTION_ID()";
        var connectionId = Convert.ToInt64(await id.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
        return (connectionId, await RowReadsAsync(connection));
    }

    /// <summary>Every row the session read: through an index (<see cref="IndexReadsAsync"/>) or by a scan of the table.</summary>
    private static async Task<long> RowReadsAsync(MySqlConnection connection)
    {
        await using var status = connection.CreateCommand();
        status.CommandText = "SELECT SUM(VARIABLE_VALUE) FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME IN ('HANDLER_READ_RND_NEXT', 'HANDLER_READ_RND')";
        var scanned = Convert.ToInt64(await status.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
        return scanned + await IndexReadsAsync(connection);
    }

    /// <summary>
    /// The session's index reads that follow a first one: the handler's read-next and read-previous counters, and the
    /// entries the storage engine checked against a condition pushed down to it (MariaDB's index condition pushdown, which
    /// reads past entries without counting them as read-next).
    /// </summary>
    private static async Task<long> IndexReadsAsync(MySqlConnection connection)
    {
        await using var status = connection.CreateCommand();
        status.CommandText = "SELECT SUM(VARIABLE_VALUE) FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME IN ('HANDLER_READ_NEXT', 'HANDLER_READ_PREV', 'HANDLER_ICP_ATTEMPTS')";
        return Convert.ToInt64(await status.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task TablePrefixes_KeepStoresInOneDatabaseApart()
    {
        var a = Open("app_a_");
        var b = Open("app_b_");
        await a.InitializeAsync(Ct);
        await b.InitializeAsync(Ct);

        await a.JobsInsertAsync(new JobsInsertParams([NewJob()]), Ct);

        Assert.Single((await a.QueuesListAsync(new QueuesListParams(), Ct)).Queues);
        Assert.Empty((await b.QueuesListAsync(new QueuesListParams(), Ct)).Queues);
    }

    [Fact]
    public void TablePrefix_ThatIsNotAnIdentifier_IsRefused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Open("jobs`; DROP TABLE x; --"));

        Assert.Contains("TypedJobs:MySql:TablePrefix", error.Message);
    }

    [Fact]
    public async Task Insert_BatchLargerThanOneStatement_IsSplit_AndStaysAtomic()
    {
        var storage = Open();
        await storage.InitializeAsync(Ct);
        var big = Enumerable.Range(0, 12).Select(_ => NewJob(payload: new byte[600 * 1024])).ToArray();
        var poisoned = Enumerable.Range(0, 12).Select(_ => NewJob(payload: new byte[600 * 1024])).Append(NewJob(task: null)).ToArray();

        var inserted = await storage.JobsInsertAsync(new JobsInsertParams(big), Ct);
        await Assert.ThrowsAnyAsync<Exception>(async () => await storage.JobsInsertAsync(new JobsInsertParams(poisoned), Ct));

        Assert.All(inserted.Outcomes, o => Assert.True(o.Inserted));
        Assert.Equal(12, (await storage.JobsCountAsync(new JobsCountParams(new JobFilter()), Ct)).Count);
        Assert.Null((await storage.JobsGetAsync(new JobsGetParams(poisoned[0].Id), Ct)).Job);
    }

    [Fact]
    public async Task Insert_WakesWorkersWaitingOnTheSameStore()
    {
        var storage = Open();
        await storage.InitializeAsync(Ct);
        var waiting = storage.JobsWaitAsync(new JobsWaitParams(["default"]), Ct).AsTask();

        await storage.JobsInsertAsync(new JobsInsertParams([NewJob()]), Ct);

        await waiting.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public async Task Capabilities_AreDurableTransactionalSearchableAndMigrated_WithoutCrossProcessWakeUp()
    {
        var storage = Open();

        Assert.Equal(StorageCapabilities.TransactionalEnqueue | StorageCapabilities.Durable | StorageCapabilities.TextSearch | StorageCapabilities.Migrations,
            storage.Capabilities);
        Assert.Equal(TimeSpan.FromSeconds(5), storage.HotPathTimeout);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Diagnose_ReportsTheServer_AndWarnsWhenCommitsAreNotFlushed()
    {
        var storage = Open();
        await storage.InitializeAsync(Ct);
        var durable = await storage.StorageDiagnoseAsync(new StorageDiagnoseParams(), Ct);
        await MySqlTestServer.ExecuteAsync("SET GLOBAL innodb_flush_log_at_trx_commit = 2");
        StorageDiagnoseResult relaxed;
        try
        {
            relaxed = await storage.StorageDiagnoseAsync(new StorageDiagnoseParams(), Ct);
        }
        finally
        {
            await MySqlTestServer.ExecuteAsync("SET GLOBAL innodb_flush_log_at_trx_commit = 1");
        }

        Assert.Contains(durable.Findings, f => f is { Code: "mysql.version", Severity: StorageFindingSeverity.Info });
        Assert.DoesNotContain(durable.Findings, f => f.Severity != StorageFindingSeverity.Info);
        Assert.Contains(relaxed.Findings, f => f is { Code: "mysql.innodb_flush_log_at_trx_commit", Severity: StorageFindingSeverity.Warning });
    }

    // ---------------------------------------------------------------- migrations

    private static readonly MySqlSql.Migration ExpandStep = new(2, "an index for lookups by task", false, 1,
        ["CREATE TABLE IF NOT EXISTS typedjobs_extra (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB"]);

    private static readonly MySqlSql.Migration ContractStep = new(3, "drops what version 1 relies on", true, 2,
        ["DROP TABLE IF EXISTS typedjobs_extra"]);

    [Fact]
    public async Task Migrations_ExpandRunsAtStartup_ContractWaitsUntilAsked_AndOlderWorkersKeepWorkingMeanwhile()
    {
        var v1 = Open();
        await v1.InitializeAsync(Ct);
        var before = await v1.JobsInsertAsync(new JobsInsertParams([NewJob()]), Ct);

        var v3 = Open(migrations: [ExpandStep, ContractStep]);
        await v3.InitializeAsync(Ct);
        var status = await v3.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);
        // A worker of version 1 still initializes and works on the expanded schema.
        var v1Again = Open();
        await v1Again.InitializeAsync(Ct);
        var claimed = await v1Again.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "old",
            Queues = [new QueueClaim("default", 1)],
            Max = 1,
            LeaseDuration = TimeSpan.FromMinutes(1),
        }, Ct);

        Assert.Equal(2, status.CurrentVersion);
        Assert.Equal(3, status.LatestVersion);
        Assert.Equal([3], status.Pending.Select(p => p.Version));
        Assert.Equal(before.Outcomes[0].Id, Assert.Single(claimed.Jobs).Id);

        var applied = await v3.MigrationsApplyAsync(new MigrationsApplyParams(), Ct);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await Open().InitializeAsync(Ct));

        Assert.Equal([3], applied.Applied.Select(a => a.Version));
        Assert.Equal(3, applied.CurrentVersion);
        Assert.Contains("schema version 3", refused.Message);
        Assert.Contains("understands schema version 2 or later", refused.Message);
        Assert.Contains("up to 1", refused.Message);
    }

    [Fact]
    public async Task Migrations_OnAFreshDatabase_IncludeContractSteps()
    {
        var storage = Open(migrations: [ExpandStep, ContractStep]);

        await storage.InitializeAsync(Ct);

        Assert.Equal(3, (await storage.MigrationsStatusAsync(new MigrationsStatusParams(), Ct)).CurrentVersion);
        Assert.Equal(0L, Convert.ToInt64(await MySqlTestServer.ScalarAsync(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'typedjobs_extra'", database)));
    }

    [Fact]
    public async Task Migrations_DryRun_ListsWithoutApplying()
    {
        var storage = Open();

        var dry = await storage.MigrationsApplyAsync(new MigrationsApplyParams(DryRun: true), Ct);
        var status = await storage.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);

        Assert.Equal([1], dry.Applied.Select(a => a.Version));
        Assert.Equal(0, status.CurrentVersion);
        Assert.Equal([1], status.Pending.Select(p => p.Version));
    }

    [Fact]
    public async Task Migrations_ManyStoresAtOnce_ApplyEachVersionOnce()
    {
        var stores = Enumerable.Range(0, 8).Select(_ => Open(migrations: [ExpandStep])).ToArray();

        await Task.WhenAll(stores.Select(s => Task.Run(async () => await s.InitializeAsync(Ct))));

        Assert.Equal(2L, Convert.ToInt64(await MySqlTestServer.ScalarAsync("SELECT COUNT(*) FROM typedjobs_migrations", database)));
        Assert.Equal(2L, Convert.ToInt64(await MySqlTestServer.ScalarAsync("SELECT MAX(version) FROM typedjobs_migrations", database)));
    }

    [Theory]
    [InlineData("10.5.23-MariaDB", false)]
    [InlineData("10.6.16-MariaDB-log", true)]
    [InlineData("5.5.5-10.11.6-MariaDB", true)]
    [InlineData("5.7.44", false)]
    [InlineData("8.0.36", true)]
    [InlineData("8.4.3", true)]
    public void Server_WithoutSkipLocked_IsRefused(string version, bool supported)
    {
        var error = Record.Exception(() => MySqlStorage.CheckServer(version));

        Assert.Equal(supported, error is null);
        if (error is not null)
        {
            Assert.Contains(version, error.Message);
        }
    }
}
