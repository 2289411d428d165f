using System.Text;
using Microsoft.Data.Sqlite;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>Behaviour specific to the SQLite store: pragmas, prefixes, migrations, transactional enqueue, wake-ups, odd rows.</summary>
public sealed class SqliteStoreTests : IAsyncDisposable
{
    private readonly TempDirectory directory = TempDirectory.Create();
    private readonly List<SqliteStorage> stores = [];
    private readonly FakeClock clock = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(directory.Path, "jobs.db");

    public async ValueTask DisposeAsync()
    {
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    private async Task<SqliteStorage> OpenAsync(Action<SqliteStorageOptions>? configure = null)
    {
        var options = new SqliteStorageOptions { ConnectionString = DatabasePath };
        configure?.Invoke(options);
        var store = new SqliteStorage(options, clock);
        stores.Add(store);
        await store.InitializeAsync(Ct);
        return store;
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command.ExecuteScalar();
    }

    private static JobInsert Job(string queue = "default") => new()
    {
        Id = JobId.New(),
        TaskName = "task",
        Queue = queue,
        Payload = "{}"u8.ToArray(),
        MaxRetries = 3,
    };

    [Fact]
    public async Task CompletionBatch_WithAnErrorCutInsideASurrogatePair_StillApplies()
    {
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams([Job(), Job()]), Ct);
        var claimed = (await store.JobsClaimAsync(ClaimParams(), Ct)).Jobs;
        // An error text truncated between the two halves of an emoji is not valid UTF-16.
        var cut = "failed: \uD83D";

        var result = await store.JobsCompleteAsync(new JobsCompleteParams(claimed.Select(j => new JobCompletion
        {
            Job = j.Ref,
            LeaseToken = j.LeaseToken!.Value,
            TargetState = JobState.Dead,
            Error = cut,
            Failed = true,
        }).ToList()), Ct);

        Assert.Equal([true, true], result.Applied);
        foreach (var job in claimed)
        {
            var stored = (await store.JobsGetAsync(new JobsGetParams(job.Id), Ct)).Job!;
            Assert.Equal(JobState.Dead, stored.State);
            Assert.Equal("failed: \uFFFD", stored.LastError);
        }
    }

    [Fact]
    public async Task CompletionBatches_OneAfterAnother_EachApplyOnlyTheirOwn_AfterALargerOneWithLongErrors()
    {
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 5).Select(_ => Job()).ToArray()), Ct);
        var claimed = (await store.JobsClaimAsync(ClaimParams(), Ct)).Jobs;
        Assert.Equal(5, claimed.Count);
        // The writer keeps the batch's JSON buffer between batches; three errors of 100,000 characters grow it past what
        // it keeps, and the smaller batch after it must read only its own two completions.
        var longError = new string('x', 100_000);
        JobCompletion Complete(JobRecord job, JobState state, string? error) => new()
        {
            Job = job.Ref,
            LeaseToken = job.LeaseToken!.Value,
            TargetState = state,
            Error = error,
            Failed = error is not null,
        };

        var first = await store.JobsCompleteAsync(new JobsCompleteParams(claimed.Take(3).Select(j => Complete(j, JobState.Dead, longError)).ToList()), Ct);
        var second = await store.JobsCompleteAsync(new JobsCompleteParams(claimed.Skip(3).Select(j => Complete(j, JobState.Succeeded, null)).ToList()), Ct);

        Assert.Equal([true, true, true], first.Applied);
        Assert.Equal([true, true], second.Applied);
        for (var i = 0; i < claimed.Count; i++)
        {
            var stored = (await store.JobsGetAsync(new JobsGetParams(claimed[i].Id), Ct)).Job!;
            Assert.Equal(i < 3 ? JobState.Dead : JobState.Succeeded, stored.State);
            Assert.Equal(i < 3 ? longError : null, stored.LastError);
        }
    }

    private static JobsClaimParams ClaimParams(string queue = "default") => new()
    {
        WorkerId = "w",
        Queues = [new QueueClaim(queue, 10)],
        Max = 10,
        LeaseDuration = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task Initialize_SwitchesTheFileToWal_AndRecordsTheSchemaVersion()
    {
        await OpenAsync();
        using var connection = Connect();

        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal((long)SqliteSql.SchemaVersion, Scalar(connection, "SELECT MAX(version) FROM typedjobs_migrations"));
        Assert.Equal((long)SqliteSql.SchemaVersion, Scalar(connection, "SELECT COUNT(*) FROM typedjobs_migrations"));
    }

    [Fact]
    public async Task Initialize_ConcurrentlyFromManyStores_AppliesEachMigrationOnce()
    {
        var opening = Enumerable.Range(0, 6).Select(_ => Task.Run(() => OpenAsync())).ToArray();
        await Task.WhenAll(opening);
        using var connection = Connect();

        Assert.Equal((long)new SqliteSql(SqliteStorageOptions.DefaultTablePrefix).Migrations.Count, Scalar(connection, "SELECT COUNT(*) FROM typedjobs_migrations"));
    }

    [Fact]
    public async Task Initialize_DatabaseFromANewerVersion_FailsWithAClearMessage()
    {
        await OpenAsync();
        using (var connection = Connect())
        {
            Scalar(connection, "INSERT INTO typedjobs_migrations (version, description, applied_at) VALUES (999, 'future', 0)");
            Scalar(connection, "UPDATE typedjobs_schema SET value = 999 WHERE name = 'minimum_reader'");
        }

        var newer = new SqliteStorage(new SqliteStorageOptions { ConnectionString = DatabasePath }, clock);
        stores.Add(newer);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await newer.InitializeAsync(Ct));

        Assert.Contains("999", error.Message);
        Assert.Contains("Upgrade TypedJobs", error.Message);
    }

    [Fact]
    public async Task TablePrefix_KeepsTwoStoresInOneFileApart()
    {
        var first = await OpenAsync();
        var second = await OpenAsync(o => o.TablePrefix = "other_");
        await first.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);

        Assert.Empty((await second.JobsClaimAsync(ClaimParams(), Ct)).Jobs);
        Assert.Single((await first.JobsClaimAsync(ClaimParams(), Ct)).Jobs);
        using var connection = Connect();
        Assert.Equal(1L, Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'other_jobs'"));
    }

    [Fact]
    public async Task Insert_WakesWaitingWorkersOfTheSameStore()
    {
        var store = await OpenAsync();
        var wait = store.JobsWaitAsync(new JobsWaitParams(["default"]), Ct).AsTask();
        Assert.False(wait.IsCompleted);

        await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);

        await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task CorruptRow_DoesNotBlockOtherJobs()
    {
        var store = await OpenAsync();
        var good = Job();
        var bad = Job();
        await store.JobsInsertAsync(new JobsInsertParams([bad, good]), Ct);
        using (var connection = Connect())
        {
            // A row damaged outside TypedJobs: a payload stored as text and an unknown priority.
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE typedjobs_jobs SET payload = 'not json', priority = 42 WHERE id = @id";
            command.Parameters.Add(new SqliteParameter("@id", SqliteType.Blob) { Value = bad.Id.Value.ToByteArray() });
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var claimed = (await store.JobsClaimAsync(ClaimParams(), Ct)).Jobs;

        Assert.Equal(2, claimed.Count);
        Assert.Equal(Encoding.UTF8.GetBytes("not json"), claimed.Single(j => j.Id == bad.Id).Payload);
        Assert.Contains(claimed, j => j.Id == good.Id);
    }

    [Fact]
    public async Task Writes_FromManyCallersAtOnce_AreGroupedAndAllCommitted()
    {
        var store = await OpenAsync();
        var inserts = Enumerable.Range(0, 300)
            .Select(_ => Task.Run(async () => await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct)))
            .ToArray();

        await Task.WhenAll(inserts);

        using var connection = Connect();
        Assert.Equal(300L, Scalar(connection, "SELECT COUNT(*) FROM typedjobs_jobs"));
    }

    [Fact]
    public async Task FailedWrite_IsRolledBackAlone_WithoutFailingOthersInItsGroup()
    {
        var store = await OpenAsync();
        var existing = Job();
        await store.JobsInsertAsync(new JobsInsertParams([existing]), Ct);
        var fresh = Enumerable.Range(0, 50).Select(_ => Job()).ToArray();

        var good = fresh.Select(j => store.JobsInsertAsync(new JobsInsertParams([j]), Ct).AsTask()).ToArray();
        var partial = Job();
        var bad = store.JobsInsertAsync(new JobsInsertParams([partial, Job() with { Payload = null! }]), Ct).AsTask();

        await Task.WhenAll(good);
        await Assert.ThrowsAsync<SqliteException>(() => bad);
        foreach (var job in fresh.Append(existing))
        {
            Assert.NotNull((await store.JobsGetAsync(new JobsGetParams(job.Id), Ct)).Job);
        }

        Assert.Null((await store.JobsGetAsync(new JobsGetParams(partial.Id), Ct)).Job);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(200)]
    public async Task Write_WhileAnotherProcessHoldsTheWriteLock_FailsAfterTheBusyTimeout_InsteadOfWaitingForever(int busyMilliseconds)
    {
        var store = await OpenAsync(o => o.BusyTimeout = TimeSpan.FromMilliseconds(busyMilliseconds));
        using var other = Connect();
        using var holder = other.BeginTransaction(deferred: false);

        var insert = store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct).AsTask();

        // A busy timeout of zero must not mean "wait without end": the write fails while the lock is still held.
        var error = await Assert.ThrowsAsync<SqliteException>(() => insert.WaitAsync(TimeSpan.FromMinutes(2), Ct));
        Assert.Equal(5, error.SqliteErrorCode); // SQLITE_BUSY
        holder.Rollback();
        await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);
    }

    [Fact]
    public async Task TaskIndex_IsMadeByTheFirstClaimThatFindsATaskAtItsCap_AndNeverWithoutOne()
    {
        var logger = new RecordingLogger();
        var options = new SqliteStorageOptions { ConnectionString = DatabasePath };
        var store = new SqliteStorage(options, clock, logger);
        stores.Add(store);
        await store.InitializeAsync(Ct);
        await store.JobsInsertAsync(new JobsInsertParams([.. Enumerable.Range(0, 30).Select(_ => Job() with { TaskName = "capped" }), Job() with { TaskName = "free" }]), Ct);
        bool HasIndex() => QueryPlanTests.Indexes(DatabasePath, "typedjobs_jobs").Contains("typedjobs_jobs_claim_task");

        var uncapped = await store.JobsClaimAsync(ClaimParams() with { Max = 1, Queues = [new QueueClaim("default", 1)] }, Ct);
        var withRoom = await store.JobsClaimAsync(ClaimParams() with { Max = 1, Queues = [new QueueClaim("default", 1)], TaskLimits = new Dictionary<string, int> { ["capped"] = 5 } }, Ct);
        var indexBefore = HasIndex();
        var atCap = await store.JobsClaimAsync(ClaimParams() with { TaskLimits = new Dictionary<string, int> { ["capped"] = 0 } }, Ct);

        Assert.Equal("capped", Assert.Single(uncapped.Jobs).TaskName);
        Assert.Equal("capped", Assert.Single(withRoom.Jobs).TaskName);
        Assert.False(indexBefore);
        Assert.Equal("free", Assert.Single(atCap.Jobs).TaskName);
        Assert.True(HasIndex());
        Assert.Single(logger.Entries, e => e.EventId == 3005 && e.Message.Contains("capped", StringComparison.Ordinal));

        // Another store on the file (as another process) finds it there and claims through it without making it again.
        var other = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams([Job() with { TaskName = "free" }]), Ct);
        var again = await other.JobsClaimAsync(ClaimParams() with { TaskLimits = new Dictionary<string, int> { ["capped"] = 0 } }, Ct);
        Assert.Equal("free", Assert.Single(again.Jobs).TaskName);
        Assert.Single(logger.Entries, e => e.EventId == 3005);
    }

    [Fact]
    public async Task TaskIndex_DroppedWhileTheStoreRuns_IsMadeAgainByTheNextClaimThatNeedsIt()
    {
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams([.. Enumerable.Range(0, 3).Select(_ => Job() with { TaskName = "capped" }), Job() with { TaskName = "free" }, Job() with { TaskName = "free" }]), Ct);
        var limits = new Dictionary<string, int> { ["capped"] = 0 };
        Assert.Single((await store.JobsClaimAsync(ClaimParams() with { Max = 1, Queues = [new QueueClaim("default", 1)], TaskLimits = limits }, Ct)).Jobs);
        using (var connection = Connect())
        {
            Scalar(connection, "DROP INDEX typedjobs_jobs_claim_task");
        }

        // The first claim after the drop fails (its statement names the index); the one after makes it again.
        await Assert.ThrowsAsync<SqliteException>(async () => await store.JobsClaimAsync(ClaimParams() with { TaskLimits = limits }, Ct));
        var after = await store.JobsClaimAsync(ClaimParams() with { TaskLimits = limits }, Ct);

        Assert.Equal("free", Assert.Single(after.Jobs).TaskName);
        Assert.Contains("typedjobs_jobs_claim_task", QueryPlanTests.Indexes(DatabasePath, "typedjobs_jobs"));
    }

    [Fact]
    public async Task ADisposedStore_RefusesReadsAndWrites_WithoutOpeningTheFile()
    {
        var store = await OpenAsync();
        var id = Job().Id;
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.JobsGetAsync(new JobsGetParams(id), Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.QueuesListAsync(new QueuesListParams(), Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct));
    }

    [Fact]
    public async Task ARead_EndsWhenItsTokenIsCancelled_EvenInTheMiddleOfAStatement()
    {
        var store = await OpenAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The store's reads (lists, counts, searches) run through this path; this statement never ends by itself, as a
        // text search over a very large table seems not to.
        var read = Task.Run(async () => await store.ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
            started.SetResult();
            return command.ExecuteScalar();
        }, cancel.Token), Ct);
        await started.Task.WaitAsync(Ct);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(TimeSpan.FromMinutes(2), Ct));
        // The pooled connection it ran on reads normally afterwards.
        Assert.Empty((await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues);
    }
}
