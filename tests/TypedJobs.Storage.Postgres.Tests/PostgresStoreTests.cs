using System.Diagnostics;
using System.Reflection;
using Npgsql;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Postgres.Internal;

namespace TypedJobs.Storage.Postgres.Tests;

/// <summary>
/// What only the PostgreSQL store does: the claim's plan, the server's clock, LISTEN/NOTIFY (across stores, coalesced,
/// reconnecting) and the poll-only mode, migrations (ten processes at once, expand and contract, a newer schema refused),
/// connection resets in the middle of a claim and of a completion, a completion the server rolled back as a deadlock's victim,
/// and batches about the same jobs that lock them in one order.
/// </summary>
public sealed class PostgresStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly string WorkerDll = typeof(PostgresStoreTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "WorkerDll").Value!;
    private readonly List<PostgresStorage> stores = [];
    private readonly string schema = PostgresTestServer.NewSchemaName();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        await PostgresTestServer.DropSchemaAsync(schema);
    }

    private PostgresStorageOptions Options(Action<PostgresStorageOptions>? configure = null)
    {
        var options = new PostgresStorageOptions { ConnectionString = PostgresTestServer.ConnectionString, Schema = schema, HotPathTimeout = TimeSpan.FromSeconds(30) };
        configure?.Invoke(options);
        return options;
    }

    private async Task<PostgresStorage> OpenAsync(Action<PostgresStorageOptions>? configure = null, IReadOnlyList<PostgresSql.Migration>? migrations = null,
        bool initialize = true)
    {
        var store = new PostgresStorage(Options(configure), migrations: migrations);
        stores.Add(store);
        if (initialize)
        {
            await store.InitializeAsync(Ct);
        }

        return store;
    }

    private static JobInsert Job(string queue = "default", TimeSpan? delay = null, Priority priority = Priority.Normal, string task = "task") => new()
    {
        Id = JobId.New(),
        TaskName = task,
        Queue = queue,
        Priority = priority,
        Payload = "{}"u8.ToArray(),
        MaxRetries = 3,
        Delay = delay,
    };

    private static JobsClaimParams Claim(int max = 10, string queue = "default") => new()
    {
        WorkerId = "w",
        Queues = [new QueueClaim(queue, max)],
        Max = max,
        LeaseDuration = TimeSpan.FromSeconds(30),
    };

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(20, Ct);
        }
    }

    [Fact]
    public async Task ClaimPlan_ReadsTheClaimIndexOneRangePerPriority_AndNeverScansScheduledJobs()
    {
        var store = await OpenAsync();
        // Many jobs scheduled for later at every priority, a few due ones: the claim must read only the due ones.
        var scheduled = Enumerable.Range(0, 4000).Select(i => Job(delay: TimeSpan.FromHours(1), priority: (Priority)(i % 4))).ToArray();
        await store.JobsInsertAsync(new JobsInsertParams(scheduled), Ct);
        await store.JobsInsertAsync(new JobsInsertParams([Job(priority: Priority.High), Job(), Job(priority: Priority.Low)]), Ct);
        await PostgresTestServer.ExecuteAsync($"ANALYZE \"{schema}\".typedjobs_jobs");

        var plan = await store.ExplainClaimAsync(Claim(), Ct);

        Assert.Contains("Index Scan using typedjobs_jobs_claim", plan);
        Assert.Contains("LockRows", plan);
        Assert.DoesNotContain("Seq Scan on typedjobs_jobs", plan);
        Assert.DoesNotContain("Sort Key: j_", plan); // each arm comes in index order: no sort of jobs before the lock
        Assert.DoesNotContain("Rows Removed by Filter", plan); // no scheduled job is read and dropped
        Assert.Contains("Update on typedjobs_jobs j (actual rows=3", plan);
    }

    [Fact]
    public async Task ClaimPlan_WithoutCappedTasks_HasNoRankingOrWalk_AndACapBringsTheWalk()
    {
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 6).Select(i => Job(task: i % 2 == 0 ? "a" : "b")).ToArray()), Ct);
        await PostgresTestServer.ExecuteAsync($"ANALYZE \"{schema}\".typedjobs_jobs");

        // No task capped (the common case): the claim is planned without the per-task and per-queue ranking.
        var plain = await store.ExplainClaimAsync(Claim(max: 4), Ct);
        Assert.DoesNotContain("WindowAgg", plain);
        Assert.Contains("Update on typedjobs_jobs j (actual rows=4", plain);

        // A capped task: the walk in claim order cuts task "a" to one job, so 1 + 3 are taken.
        var capped = await store.ExplainClaimAsync(Claim(max: 4) with { TaskLimits = new Dictionary<string, int> { ["a"] = 1 } }, Ct);
        Assert.Contains("Recursive Union", capped);
        Assert.DoesNotContain("Recursive Union", plain);
        Assert.Contains("Update on typedjobs_jobs j (actual rows=4", capped);
        var claimed = await store.JobsClaimAsync(Claim(max: 6) with { TaskLimits = new Dictionary<string, int> { ["a"] = 1 } }, Ct);
        Assert.Equal(1, claimed.Jobs.Count(j => j.TaskName == "a"));
        Assert.Equal(3, claimed.Jobs.Count(j => j.TaskName == "b"));
    }

    [Fact]
    public async Task ListPlan_ByWaitingState_WalksTheJobsNewestFirstOrReadsTheClaimIndex_NeverTheWholeTable()
    {
        var store = await OpenAsync();
        // Mostly ready jobs and a few scheduled ones: a page of ready jobs is the newest rows read in key order and cut at
        // the limit; the scheduled ones are found through the claim index. (A filter on an expression over the state was
        // estimated at a fixed fraction of the rows, and every page read and sorted the whole table.)
        for (var batch = 0; batch < 20; batch++)
        {
            await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 1000).Select(_ => Job()).ToArray()), Ct);
        }

        await store.JobsInsertAsync(new JobsInsertParams([Job(delay: TimeSpan.FromHours(1)), Job(delay: TimeSpan.FromHours(2))]), Ct);
        await PostgresTestServer.ExecuteAsync($"ANALYZE \"{schema}\".typedjobs_jobs");

        var readyPlan = await store.ExplainJobsListAsync(new JobsListParams { Filter = new JobFilter { State = JobState.Ready }, Limit = 100 }, Ct);
        var scheduledPlan = await store.ExplainJobsListAsync(new JobsListParams { Filter = new JobFilter { State = JobState.Scheduled }, Limit = 100 }, Ct);

        Assert.Contains("Index Scan Backward using typedjobs_jobs_id", readyPlan);
        Assert.DoesNotContain("Sort", readyPlan);
        Assert.Contains("rows=101 loops=1", readyPlan); // read up to the limit and one more (for the cursor), then stopped
        Assert.True(scheduledPlan.Contains("typedjobs_jobs_claim", StringComparison.Ordinal), scheduledPlan);
        Assert.DoesNotContain("Seq Scan", readyPlan + scheduledPlan);
        var scheduled = await store.JobsListAsync(new JobsListParams { Filter = new JobFilter { State = JobState.Scheduled }, Limit = 100 }, Ct);
        Assert.Equal(2, scheduled.Jobs.Count);
        Assert.All(scheduled.Jobs, j => Assert.Equal(JobState.Scheduled, j.State));
    }

    [Fact]
    public async Task Clock_IsTheServersNow()
    {
        var store = await OpenAsync();
        var before = await PostgresTestServer.ScalarAsync<DateTime>("SELECT now()");

        var now = await store.ClockNowAsync(Ct);
        var id = (await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct)).Outcomes[0].Id;
        var after = await PostgresTestServer.ScalarAsync<DateTime>("SELECT now()");
        var job = (await store.JobsGetAsync(new JobsGetParams(id), Ct)).Job!;

        Assert.InRange(now.UtcDateTime, before, after);
        Assert.InRange(job.CreatedAt.UtcDateTime, before, after);
    }

    [Fact]
    public async Task Diagnose_ReportsTheVersion_AndWarnsWhenCommitsAreNotDurable()
    {
        var store = await OpenAsync(o => o.ConnectionString += ";Options=-c synchronous_commit=off");

        var findings = (await store.StorageDiagnoseAsync(new StorageDiagnoseParams(), Ct)).Findings;

        Assert.Contains(findings, f => f.Code == "postgres.version" && f.Message.Contains("PostgreSQL 15", StringComparison.Ordinal));
        Assert.Contains(findings, f => f is { Code: "postgres.synchronous_commit", Severity: StorageFindingSeverity.Warning });
        Assert.DoesNotContain(findings, f => f.Code == "postgres.fsync");
        var connections = Assert.Single(findings, f => f.Code == "postgres.connections");
        Assert.Contains("connection slots in use", connections.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diagnose_WarnsWhenThePoolCannotFitTheServersFreeConnectionSlots()
    {
        var available = await PostgresTestServer.ScalarAsync<int>(
            "SELECT current_setting('max_connections')::integer - current_setting('superuser_reserved_connections')::integer");
        var store = await OpenAsync(o => o.ConnectionString += ";Maximum Pool Size=" + (available + 5).ToString(System.Globalization.CultureInfo.InvariantCulture));

        var findings = (await store.StorageDiagnoseAsync(new StorageDiagnoseParams(), Ct)).Findings;

        var warning = Assert.Single(findings, f => f.Code == "postgres.pool_exceeds_free_slots");
        Assert.Equal(StorageFindingSeverity.Warning, warning.Severity);
        Assert.Contains("pool_max " + (available + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionLimits_WarnWhenMostSlotsAreTaken_AndStayQuietWithRoom()
    {
        var quiet = new List<StorageFinding>();
        PostgresStorage.ConnectionLimits(quiet, available: 97, inUse: 10, poolSize: 20);
        Assert.Equal(["postgres.connections"], quiet.Select(f => f.Code));

        var busy = new List<StorageFinding>();
        PostgresStorage.ConnectionLimits(busy, available: 97, inUse: 90, poolSize: 20);
        Assert.Equal(["postgres.connections", "postgres.connections_in_use", "postgres.pool_exceeds_free_slots"], busy.Select(f => f.Code));
    }

    [Fact]
    public async Task Insert_WakesAWaitingStoreOfAnotherProcess_ThroughListenNotify()
    {
        var waiter = await OpenAsync();
        var inserter = await OpenAsync();
        Assert.True(waiter.Capabilities.HasFlag(StorageCapabilities.CrossProcessWakeUp));
        await EventuallyAsync(() => Task.FromResult(waiter.Notifier!.IsListening), "the listener");

        var woken = waiter.JobsWaitAsync(new JobsWaitParams(["default"]), Ct).AsTask();
        await inserter.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);

        Assert.Same(woken, await Task.WhenAny(woken, Task.Delay(Deadline, Ct)));
    }

    [Fact]
    public async Task Notify_IsCoalesced_FirstInsertOfAWindowNotifiesAndOneTrailingNotificationCoversTheRest()
    {
        var inserter = await OpenAsync(o => o.NotifyWindow = TimeSpan.FromMilliseconds(200));
        var received = new List<(long At, string Payload)>();
        await using var listenerSource = PostgresTestServer.AdminDataSource();
        await using var listener = await listenerSource.OpenConnectionAsync(Ct);
        listener.Notification += (_, e) =>
        {
            lock (received)
            {
                received.Add((Stopwatch.GetTimestamp(), e.Payload));
            }
        };
        await using (var listen = new NpgsqlCommand($"LISTEN \"{inserter.Channel}\"", listener))
        {
            await listen.ExecuteNonQueryAsync(Ct);
        }

        var started = Stopwatch.GetTimestamp();
        const int Inserts = 40;
        for (var i = 0; i < Inserts; i++)
        {
            await inserter.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);
        }

        var lastInsert = Stopwatch.GetTimestamp();
        var windows = (int)Math.Ceiling(Stopwatch.GetElapsedTime(started, lastInsert) / TimeSpan.FromMilliseconds(200)) + 1;
        // Read what is on the wire until every notification the store sent arrived, the window-end one included.
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            await listener.WaitAsync(TimeSpan.FromMilliseconds(100), Ct);
            var sent = inserter.Coalescer.LeadingCount + inserter.Coalescer.TrailingCount;
            lock (received)
            {
                if (inserter.Coalescer.TrailingCount > 0 && received.Count == sent)
                {
                    break;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"Received {received.Count} of {sent} notifications; trailing: {inserter.Coalescer.TrailingCount}.");
        }

        int count;
        lock (received)
        {
            count = received.Count;
        }

        Assert.True(count >= 2, $"expected a leading and a trailing notification, got {count}");
        Assert.True(received[^1].At >= lastInsert, "the last notification must come after the last insert");
        Assert.True(count <= 2 * windows, $"{count} notifications for {Inserts} inserts over {windows} windows");
        Assert.True(count < Inserts);
        Assert.Equal(count, (int)(inserter.Coalescer.LeadingCount + inserter.Coalescer.TrailingCount));
    }

    [Fact]
    public async Task Listener_WhoseConnectionIsTerminated_Reconnects_AndWakesAgain()
    {
        var waiter = await OpenAsync();
        var inserter = await OpenAsync();
        await EventuallyAsync(() => Task.FromResult(waiter.Notifier!.IsListening), "the listener");
        var pid = waiter.Notifier!.ListenerProcessId;

        await PostgresTestServer.ExecuteAsync($"SELECT pg_terminate_backend({pid})");
        await EventuallyAsync(() => Task.FromResult(waiter.Notifier.Connects >= 2 && waiter.Notifier.IsListening), "the listener to reconnect");
        var woken = waiter.JobsWaitAsync(new JobsWaitParams(["default"]), Ct).AsTask();
        await inserter.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);

        Assert.NotEqual(pid, waiter.Notifier.ListenerProcessId);
        Assert.Same(woken, await Task.WhenAny(woken, Task.Delay(Deadline, Ct)));
    }

    [Fact]
    public async Task PollMode_ListensToNothing_PreparesNothing_AndStillClaims()
    {
        var store = await OpenAsync(o => o.WakeUp = PostgresWakeUp.Poll);
        await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);

        var claimed = await store.JobsClaimAsync(Claim(), Ct);

        Assert.Null(store.Notifier);
        Assert.False(store.Capabilities.HasFlag(StorageCapabilities.CrossProcessWakeUp));
        Assert.Single(claimed.Jobs);
        await using var connection = await store.DataSource.OpenConnectionAsync(Ct);
        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements", connection);
        Assert.Equal(0L, await prepared.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Migrations_TenProcessesStartingAtOnce_ApplyEachVersionOnce()
    {
        var processes = Enumerable.Range(0, 10)
            .Select(_ => WorkerProcess.Start(WorkerDll, "--connection", PostgresTestServer.ConnectionString, "--schema", schema, "--migrate-only"))
            .ToList();
        try
        {
            foreach (var process in processes)
            {
                Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(120)));
                Assert.Contains("migrated", process.Output);
            }
        }
        finally
        {
            processes.ForEach(p => p.Dispose());
        }

        var versions = await PostgresTestServer.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".typedjobs_migrations");
        var store = await OpenAsync();
        var status = await store.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);
        Assert.Equal(PostgresSql.SchemaVersion, versions);
        Assert.Equal((PostgresSql.SchemaVersion, PostgresSql.SchemaVersion), (status.CurrentVersion, status.LatestVersion));
        Assert.Empty(status.Pending);
    }

    [Fact]
    public async Task Migrations_ContractStep_WaitsOnAnExistingSchemaUntilApplied_ButANewSchemaGetsItAtOnce()
    {
        IReadOnlyList<PostgresSql.Migration> version1 = [DefaultMigrations()[0]];
        var v1 = await OpenAsync(migrations: version1);
        var expand = new PostgresSql.Migration(2, "add a column", false, [$"ALTER TABLE \"{schema}\".typedjobs_jobs ADD COLUMN note text"]);
        var contract = new PostgresSql.Migration(3, "drop the column", true, [$"ALTER TABLE \"{schema}\".typedjobs_jobs DROP COLUMN note"], MinimumReader: 2);
        var migrations = version1.Append(expand).Append(contract).ToList();

        var upgraded = await OpenAsync(migrations: migrations);
        var status = await upgraded.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);
        var dryRun = await upgraded.MigrationsApplyAsync(new MigrationsApplyParams(DryRun: true), Ct);
        var afterDryRun = await upgraded.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);
        // A worker of version 1 still works on the expanded schema.
        await v1.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);
        Assert.Single((await v1.JobsClaimAsync(Claim(), Ct)).Jobs);
        var applied = await upgraded.MigrationsApplyAsync(new MigrationsApplyParams(), Ct);
        var fresh = await OpenFreshAsync(migrations);

        Assert.Equal(2, status.CurrentVersion);
        Assert.Equal([3], status.Pending.Select(m => m.Version));
        Assert.Contains("contract", status.Pending[0].Description);
        Assert.Equal([3], dryRun.Applied.Select(m => m.Version));
        Assert.Equal(2, afterDryRun.CurrentVersion);
        Assert.Equal(3, applied.CurrentVersion);
        Assert.Equal(3, fresh);
        // Version 1 code understands schema version 1 only: after the contract step it refuses, naming both versions.
        var refused = await Assert.ThrowsAnyAsync<InvalidOperationException>(async () => await OpenAsync(migrations: version1));
        Assert.Contains("schema version 3", refused.Message);
        Assert.Contains("up to 1", refused.Message);
    }

    private IReadOnlyList<PostgresSql.Migration> DefaultMigrations() =>
        new PostgresSql(schema, new PostgresStorageOptions().TablePrefix, serverClock: true).Migrations;

    private Task<bool> HasPrimaryKeyAsync() => PostgresTestServer.ScalarAsync<bool>(
        $"SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '\"{schema}\".typedjobs_jobs'::regclass AND contype = 'p')");

    [Fact]
    public async Task Migration2_DropsTheSequenceKeyOnlyWhenApplied_AndTheStoreWorksOnTheSchemaBeforeAndAfter()
    {
        // A schema made by version 1 (jobs keyed by their sequence), then opened by this version: the contract step waits.
        await OpenAsync(migrations: [DefaultMigrations()[0]]);
        var store = await OpenAsync();
        var status = await store.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);

        Assert.Equal(1, status.CurrentVersion);
        Assert.Equal([2, 3, 4], status.Pending.Select(m => m.Version));
        Assert.True(await HasPrimaryKeyAsync());
        await RunEveryKindOfStatementAsync(store);

        var applied = await store.MigrationsApplyAsync(new MigrationsApplyParams(), Ct);

        Assert.Equal(4, applied.CurrentVersion);
        Assert.False(await HasPrimaryKeyAsync());
        await RunEveryKindOfStatementAsync(store);
        // Version 1 looks jobs up by the sequence: it refuses the schema without its key rather than scan the table.
        var refused = await Assert.ThrowsAnyAsync<InvalidOperationException>(async () => await OpenAsync(migrations: [DefaultMigrations()[0]]));
        Assert.Contains("up to 1", refused.Message);
    }

    [Fact]
    public async Task NewSchema_HasNoSequenceKey_AndItsHotPathFindsJobsByIdNeverByScanning()
    {
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 2000).Select(_ => Job()).ToArray()), Ct);
        await PostgresTestServer.ExecuteAsync($"ANALYZE \"{schema}\".typedjobs_jobs");

        var plan = await store.ExplainClaimAsync(Claim(max: 50), Ct);

        Assert.False(await HasPrimaryKeyAsync());
        Assert.True(plan.Contains("Index Scan using typedjobs_jobs_id on typedjobs_jobs j", StringComparison.Ordinal), plan); // the claimed rows, found by id
        Assert.DoesNotContain("Seq Scan on typedjobs_jobs", plan);
        Assert.Contains("Update on typedjobs_jobs j (actual rows=50", plan);
    }

    [Fact]
    public async Task BulkAction_WithACursor_SeeksPastIt_InsteadOfReadingTheJobsBeforeItAgain()
    {
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 2000).Select(_ => Job()).ToArray()), Ct);
        await PostgresTestServer.ExecuteAsync($"ANALYZE \"{schema}\".typedjobs_jobs");
        var first = await store.JobsBulkAsync(new JobsBulkParams(JobsBulkAction.Cancel, new JobFilter(), 1000), Ct);

        var plan = await store.ExplainBulkAsync(new JobsBulkParams(JobsBulkAction.Cancel, new JobFilter(), 10) { Cursor = first.NextCursor }, Ct);

        // The second batch starts at the cursor in the id index: the thousand jobs the first one cancelled are not read.
        Assert.Equal(1000, first.Jobs.Count);
        Assert.Contains("Index Cond: (id > ", plan);
        Assert.DoesNotContain("Rows Removed by Filter", plan);
    }

    [Fact]
    public async Task Prune_ReadsOnlyTheJobsItDeletes_NotTheDeadOnesKeptLonger()
    {
        var store = await OpenAsync();
        // 2,000 dead jobs and 10 succeeded ones, all finished an hour ago; a prune of succeeded and cancelled jobs.
        await PostgresTestServer.ExecuteAsync($"""
            INSERT INTO "{schema}".typedjobs_jobs (id, task, queue, priority, state, payload, max_retries, created_at, due_at, finished_at)
            SELECT gen_random_uuid(), 't', 'q', 2, CASE WHEN g <= 2000 THEN 4 ELSE 3 END, '\x7b7d', 0, now() - interval '2 hours',
                   now() - interval '2 hours', now() - interval '1 hour' - g * interval '1 millisecond'
            FROM generate_series(1, 2010) g
            """);
        await PostgresTestServer.ExecuteAsync($"ANALYZE \"{schema}\".typedjobs_jobs");

        var plan = await store.ExplainPruneAsync(new JobsPruneParams([JobState.Succeeded, JobState.Cancelled], TimeSpan.FromMinutes(30), 100), Ct);
        var pruned = await store.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded, JobState.Cancelled], TimeSpan.FromMinutes(30), 100), Ct);

        Assert.Contains("typedjobs_jobs_finished_state", plan);
        Assert.DoesNotContain("Rows Removed by Filter", plan);
        Assert.DoesNotContain("Seq Scan on typedjobs_jobs", plan);
        Assert.Equal(10, pruned.Deleted);
        Assert.Equal(2000L, await PostgresTestServer.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".typedjobs_jobs WHERE state = 4"));
    }

    /// <summary>Insert, claim, complete, rescue, list page by page, cancel, bulk actions and prune, each checked.</summary>
    private async Task RunEveryKindOfStatementAsync(PostgresStorage store)
    {
        var inserted = Enumerable.Range(0, 5).Select(_ => Job(queue: "every")).ToArray();
        await store.JobsInsertAsync(new JobsInsertParams(inserted), Ct);
        var claimed = (await store.JobsClaimAsync(Claim(max: 2, queue: "every") with { LeaseDuration = TimeSpan.FromMilliseconds(1) }, Ct)).Jobs;
        Assert.Equal([inserted[0].Id, inserted[1].Id], claimed.Select(j => j.Id));
        var completed = await store.JobsCompleteAsync(new JobsCompleteParams([new JobCompletion
        {
            Job = claimed[0].Ref, LeaseToken = claimed[0].LeaseToken!.Value, TargetState = JobState.Succeeded,
        }]), Ct);
        Assert.True(Assert.Single(completed.Applied));
        await EventuallyAsync(async () => (await store.JobsRescueAsync(new JobsRescueParams(10), Ct)).Jobs.Count == 1, "the expired lease's rescue");

        var pages = new List<JobId>();
        string? cursor = null;
        do
        {
            var page = await store.JobsListAsync(new JobsListParams { Filter = new JobFilter { Queue = "every" }, Limit = 2, Cursor = cursor }, Ct);
            pages.AddRange(page.Jobs.Select(j => j.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(inserted.Select(j => j.Id).Reverse(), pages);

        Assert.True((await store.JobsCancelAsync(new JobsCancelParams(new JobRef(inserted[4].Id, "every")), Ct)).Cancelled);
        var retried = await store.JobsBulkAsync(new JobsBulkParams(JobsBulkAction.Retry, new JobFilter { Queue = "every" }), Ct);
        Assert.Equal([inserted[4].Id], retried.Jobs.Select(j => j.Job.Id));
        var deleted = await store.JobsBulkAsync(new JobsBulkParams(JobsBulkAction.Delete, new JobFilter { Queue = "every", State = JobState.Ready }), Ct);
        Assert.Equal(4, deleted.Jobs.Count);
        await PostgresTestServer.ExecuteAsync($"UPDATE \"{schema}\".typedjobs_jobs SET finished_at = finished_at - interval '2 days' WHERE queue = 'every'");
        var pruned = await store.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded], TimeSpan.FromDays(1)), Ct);
        Assert.Equal(1, pruned.Deleted);
        Assert.Equal(0, (await store.JobsCountAsync(new JobsCountParams(new JobFilter { Queue = "every" }), Ct)).Count);
    }

    private async Task<int> OpenFreshAsync(IReadOnlyList<PostgresSql.Migration> migrations)
    {
        var freshSchema = PostgresTestServer.NewSchemaName();
        try
        {
            // The test migrations name this test's schema in their statements: rewrite them for the fresh one.
            var rewritten = migrations.Select(m => m with { Statements = m.Statements.Select(s => s.Replace(schema, freshSchema, StringComparison.Ordinal)).ToList() })
                .ToList();
            var freshOptions = Options(o => o.Schema = freshSchema);
            await using var store = new PostgresStorage(freshOptions, migrations: rewritten);
            await store.InitializeAsync(Ct);
            return (await store.MigrationsStatusAsync(new MigrationsStatusParams(), Ct)).CurrentVersion;
        }
        finally
        {
            await PostgresTestServer.DropSchemaAsync(freshSchema);
        }
    }

    [Fact]
    public async Task ConnectionReset_DuringAClaim_ClaimsNothing_AndTheNextClaimGetsEveryJob()
    {
        var store = await OpenAsync(o => o.ApplicationName(schema));
        await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 5).Select(_ => Job()).ToArray()), Ct);
        await using var admin = PostgresTestServer.AdminDataSource();
        await using var blocker = await admin.OpenConnectionAsync(Ct);
        await using var transaction = await blocker.BeginTransactionAsync(Ct);
        // Holding the queues table makes the claim wait inside its statement, where its connection is then terminated.
        await using (var lockQueues = new NpgsqlCommand($"LOCK TABLE \"{schema}\".typedjobs_queues IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockQueues.ExecuteNonQueryAsync(Ct);
        }

        var claim = store.JobsClaimAsync(Claim(), Ct).AsTask();
        await TerminateWaitingBackendAsync("FOR UPDATE SKIP LOCKED");
        await Assert.ThrowsAnyAsync<Exception>(() => claim);
        await transaction.RollbackAsync(Ct);

        var queue = Assert.Single((await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues);
        Assert.Equal(5, queue.Counts[JobState.Ready]);
        Assert.Equal(5, (await store.JobsClaimAsync(Claim(), Ct)).Jobs.Count);
    }

    [Fact]
    public async Task ConnectionReset_DuringACompletion_AppliesNothing_AndTheRetriedCompletionApplies()
    {
        var store = await OpenAsync(o => o.ApplicationName(schema));
        await store.JobsInsertAsync(new JobsInsertParams([Job(), Job()]), Ct);
        var claimed = (await store.JobsClaimAsync(Claim(), Ct)).Jobs;
        var completions = claimed.Select(j => new JobCompletion
        {
            Job = j.Ref,
            LeaseToken = j.LeaseToken!.Value,
            TargetState = JobState.Succeeded,
            Result = [42],
            ResultTtl = TimeSpan.FromHours(1),
        }).ToList();
        await using var admin = PostgresTestServer.AdminDataSource();
        await using var blocker = await admin.OpenConnectionAsync(Ct);
        await using var transaction = await blocker.BeginTransactionAsync(Ct);
        // A row lock on the second job makes the completion wait inside its statement.
        await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM \"{schema}\".typedjobs_jobs WHERE id = @id FOR UPDATE", blocker, transaction))
        {
            lockRow.Parameters.AddWithValue("id", claimed[1].Id.Value);
            await lockRow.ExecuteNonQueryAsync(Ct);
        }

        var complete = store.JobsCompleteAsync(new JobsCompleteParams(completions), Ct).AsTask();
        await TerminateWaitingBackendAsync("UPDATE");
        await Assert.ThrowsAnyAsync<Exception>(() => complete);
        await transaction.RollbackAsync(Ct);

        // The statement was atomic: neither completion nor any result was written, and the retry applies both.
        foreach (var job in claimed)
        {
            var stored = (await store.JobsGetAsync(new JobsGetParams(job.Id), Ct)).Job!;
            Assert.Equal(JobState.Running, stored.State);
            Assert.Null((await store.ResultsGetAsync(new ResultsGetParams(job.Id, job.LeaseToken!.Value), Ct)).Result);
        }

        var retried = await store.JobsCompleteAsync(new JobsCompleteParams(completions), Ct);
        Assert.Equal([true, true], retried.Applied);
        Assert.NotNull((await store.ResultsGetAsync(new ResultsGetParams(claimed[0].Id, claimed[0].LeaseToken!.Value), Ct)).Result);
    }

    [Fact]
    public async Task LargePlainInsert_WithATakenId_InsertsAllOthersOnce_AndKeepsItsOrder()
    {
        var store = await OpenAsync();
        var taken = Job();
        await store.JobsInsertAsync(new JobsInsertParams([taken]), Ct);
        // A taken id fails the plain insert as a whole, and the full statement then reports every job: the other 599
        // come back inserted (none as already stored, which a partly applied plain insert would have left behind).
        var jobs = Enumerable.Range(0, 600).Select(_ => Job()).ToArray();
        jobs[550] = jobs[550] with { Id = taken.Id };

        var outcomes = (await store.JobsInsertAsync(new JobsInsertParams(jobs), Ct)).Outcomes;

        Assert.Equal(600, outcomes.Count);
        for (var i = 0; i < jobs.Length; i++)
        {
            Assert.Equal(jobs[i].Id, outcomes[i].Id);
            Assert.Equal(i != 550, outcomes[i].Inserted);
        }

        // Without a taken id the plain insert keeps the batch's order: the jobs are claimed in the order they were given.
        var second = Enumerable.Range(0, 600).Select(_ => Job(queue: "ordered")).ToArray();
        Assert.All((await store.JobsInsertAsync(new JobsInsertParams(second), Ct)).Outcomes, o => Assert.True(o.Inserted));
        var claimed = new List<JobId>();
        while (claimed.Count < second.Length)
        {
            var batch = (await store.JobsClaimAsync(Claim(max: 256, queue: "ordered"), Ct)).Jobs;
            Assert.NotEmpty(batch);
            claimed.AddRange(batch.Select(j => j.Id));
        }

        Assert.Equal(second.Select(j => j.Id), claimed);
    }

    [Fact]
    public async Task Completion_ChosenAsADeadlocksVictim_IsRunAgain_AndApplies()
    {
        var store = await OpenAsync(o => o.ApplicationName(schema));
        // First is stored before second, has the lower id and is completed first: in the order of the arrays, of the id
        // index or of the table alike, the completion locks first's row before it waits on second's.
        var jobs = new[] { Job(), Job() }.OrderBy(j => j.Id.Value).ToArray();
        var (first, second) = (jobs[0], jobs[1]);
        await store.JobsInsertAsync(new JobsInsertParams([first, second]), Ct);
        var claimed = (await store.JobsClaimAsync(Claim(), Ct)).Jobs.ToDictionary(j => j.Id);
        var completions = new[] { first, second }.Select(j => new JobCompletion
        {
            Job = claimed[j.Id].Ref,
            LeaseToken = claimed[j.Id].LeaseToken!.Value,
            TargetState = JobState.Succeeded,
        }).ToList();
        var deadlocksBefore = await DeadlocksAsync();

        await using var admin = PostgresTestServer.AdminDataSource();
        await using var blocker = await admin.OpenConnectionAsync(Ct);
        await using var transaction = await blocker.BeginTransactionAsync(Ct);
        // The blocker waits far longer than the store's connections before it looks for a deadlock, so the store's
        // statement is the one that finds the cycle and is rolled back.
        await using (var patient = new NpgsqlCommand("SET LOCAL deadlock_timeout = '10min'", blocker, transaction))
        {
            await patient.ExecuteNonQueryAsync(Ct);
        }

        await LockRowAsync(second.Id);
        var complete = store.JobsCompleteAsync(new JobsCompleteParams(completions), Ct).AsTask();
        await EventuallyAsync(async () => await PostgresTestServer.ScalarAsync<long>(
            $"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{schema}' AND wait_event_type = 'Lock'") > 0,
            "the completion to wait on the second job's row");
        // The blocker now waits on the first job's row, which the completion holds: a cycle the server breaks by
        // rolling the completion back. The blocker then gets its row, and the completion, run again, applies both.
        await LockRowAsync(first.Id);
        await transaction.CommitAsync(Ct);

        Assert.Equal([true, true], (await complete).Applied);
        foreach (var job in claimed.Keys)
        {
            Assert.Equal(JobState.Succeeded, (await store.JobsGetAsync(new JobsGetParams(job), Ct)).Job!.State);
        }

        await EventuallyAsync(async () => await DeadlocksAsync() > deadlocksBefore, "the server to count the deadlock");
        // At least once: when the completion is rolled back, its retry and the blocker both wait for the first job's row,
        // and on a busy machine the retry can take it first, which makes the same cycle again (the blocker still holds the
        // second job's row) and the retry its victim again. Either way the completion is run again until it applies.
        Assert.InRange(store.DeadlockVictims, 1, int.MaxValue);

        async Task LockRowAsync(JobId id)
        {
            await using var lockRow = new NpgsqlCommand($"SELECT 1 FROM \"{schema}\".typedjobs_jobs WHERE id = @id FOR UPDATE", blocker, transaction);
            lockRow.Parameters.AddWithValue("id", id.Value);
            await lockRow.ExecuteNonQueryAsync(Ct);
        }

        static Task<long> DeadlocksAsync() =>
            PostgresTestServer.ScalarAsync<long>("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
    }

    [Fact]
    public async Task CompletionAndLeaseExtension_OfTheSameJobsInOppositeOrders_LockTheRowsInOneOrder_AndDoNotDeadlock()
    {
        var store = await OpenAsync(o => o.ApplicationName(schema));
        // Enough running jobs that the planner updates through a nested loop over the input (an id lookup per input row,
        // rather than a scan of the running jobs), which locks rows in the order the input gives them.
        for (var batch = 0; batch < 5; batch++)
        {
            await store.JobsInsertAsync(new JobsInsertParams([.. Enumerable.Range(0, 1000).Select(_ => Job("filler"))]), Ct);
        }

        Assert.Equal(5000, (await store.JobsClaimAsync(Claim(5000, "filler"), Ct)).Jobs.Count);
        await store.JobsInsertAsync(new JobsInsertParams([Job(), Job()]), Ct);
        await PostgresTestServer.ExecuteAsync($"ANALYZE \"{schema}\".typedjobs_jobs");
        var claimed = (await store.JobsClaimAsync(Claim(), Ct)).Jobs.OrderBy(j => j.Id.Value).ToArray();
        Assert.Equal(2, claimed.Length);
        var (first, second) = (claimed[0], claimed[1]);

        // Two blockers hold the two rows, so both of the store's statements wait before they lock anything.
        await using var admin = PostgresTestServer.AdminDataSource();
        await using var holdsFirst = await admin.OpenConnectionAsync(Ct);
        await using var firstHeld = await holdsFirst.BeginTransactionAsync(Ct);
        await LockRowAsync(holdsFirst, firstHeld, first.Id);
        await using var holdsSecond = await admin.OpenConnectionAsync(Ct);
        await using var secondHeld = await holdsSecond.BeginTransactionAsync(Ct);
        await LockRowAsync(holdsSecond, secondHeld, second.Id);

        // The completion names the jobs first-second, the heartbeat second-first.
        var complete = store.JobsCompleteAsync(new JobsCompleteParams([.. claimed.Select(j => new JobCompletion
        {
            Job = j.Ref,
            LeaseToken = j.LeaseToken!.Value,
            TargetState = JobState.Succeeded,
        })]), Ct).AsTask();
        var extend = store.LeasesExtendAsync(new LeasesExtendParams("w", [.. claimed.Reverse().Select(j => new JobLease(j.Ref, j.LeaseToken!.Value))],
            TimeSpan.FromSeconds(30)), Ct).AsTask();
        await EventuallyAsync(async () => await WaitingAsync(except: null) == 2, "both statements to wait on a row");

        // The first row is freed: a statement that takes rows in input order now holds it and waits on the second.
        await firstHeld.CommitAsync(Ct);
        await EventuallyAsync(async () => await WaitingAsync(except: holdsFirst.ProcessID) == 2,
            "both statements to wait on something other than the first row's old holder");

        // The second row is freed. Had the heartbeat kept its order it would now hold the second row and wait on the
        // first, which the completion holds while it waits on the second: a deadlock, found after deadlock_timeout and
        // broken by rolling one statement back. In one order, one statement simply waits for the other.
        await secondHeld.CommitAsync(Ct);
        Assert.Equal([true, true], (await complete).Applied);
        await extend;
        foreach (var job in claimed)
        {
            Assert.Equal(JobState.Succeeded, (await store.JobsGetAsync(new JobsGetParams(job.Id), Ct)).Job!.State);
        }

        // The store's own count (the server's is per database, which other tests share).
        Assert.Equal(0, store.DeadlockVictims);

        async Task LockRowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobId id)
        {
            await using var lockRow = new NpgsqlCommand($"SELECT 1 FROM \"{schema}\".typedjobs_jobs WHERE id = @id FOR UPDATE", connection, transaction);
            lockRow.Parameters.AddWithValue("id", id.Value);
            await lockRow.ExecuteNonQueryAsync(Ct);
        }

        // The store's backends waiting on a lock, counting only those not blocked by the backend except.
        async Task<long> WaitingAsync(int? except)
        {
            await using var command = admin.CreateCommand("""
                SELECT count(*) FROM pg_stat_activity
                WHERE application_name = @app AND wait_event_type = 'Lock' AND NOT (@except = ANY(pg_blocking_pids(pid)))
                """);
            command.Parameters.AddWithValue("app", schema);
            command.Parameters.AddWithValue("except", except ?? 0);
            return (long)(await command.ExecuteScalarAsync(Ct))!;
        }
    }

    /// <summary>Terminates the store's backend that waits on a lock while running a statement containing <paramref name="sqlFragment"/>.</summary>
    private async Task TerminateWaitingBackendAsync(string sqlFragment)
    {
        var terminated = false;
        await EventuallyAsync(async () =>
        {
            await using var admin = PostgresTestServer.AdminDataSource();
            await using var command = admin.CreateCommand("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE application_name = @app AND wait_event_type = 'Lock' AND strpos(query, @fragment) > 0
                """);
            command.Parameters.AddWithValue("app", schema);
            command.Parameters.AddWithValue("fragment", sqlFragment);
            terminated = (long)(await command.ExecuteScalarAsync(Ct))! > 0;
            return terminated;
        }, "the store's statement to wait on the lock");
    }
}

internal static class TestOptions
{
    /// <summary>Names the store's connections (so a test can find its backends in pg_stat_activity).</summary>
    public static void ApplicationName(this PostgresStorageOptions options, string name) =>
        options.ConnectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString) { ApplicationName = name }.ConnectionString;
}
