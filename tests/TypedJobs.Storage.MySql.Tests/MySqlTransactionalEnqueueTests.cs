using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using TypedJobs.Events;
using TypedJobs.Registration;
using TypedJobs.Storage.MySql.Internal;

namespace TypedJobs.Storage.MySql.Tests;

/// <summary>Tasks declared with the attribute, so the generator emits typed stubs for the transactional tests.</summary>
public static class OrderTasks
{
    private static readonly List<string> Recorded = [];

    /// <summary>The order ids the task has seen.</summary>
    public static IReadOnlyList<string> Seen
    {
        get
        {
            lock (Recorded)
            {
                return [.. Recorded];
            }
        }
    }

    /// <summary>Records an order id.</summary>
    [Task(Name = "mysql-tests.order-placed")]
    public static Task OrderPlaced(string orderId)
    {
        lock (Recorded)
        {
            Recorded.Add(orderId);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// <c>IJobClient.InTransaction</c> with the caller's <see cref="MySqlTransaction"/>: jobs join the caller's transaction
/// through the client's normal path (limits, unique keys) and the generated stubs, exist only if it commits, and wake the
/// workers and observers after the commit — which the store observes through the lock the caller's transaction holds on
/// the rows it inserted.
/// </summary>
public sealed class MySqlTransactionalEnqueueTests : IAsyncLifetime
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(TestJson.Default.Int32);
    private readonly List<int> ran = [];
    private readonly RecordingObserver observer = new();
    private string database = "";
    private IHost? host;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => database = await MySqlTestServer.CreateDatabaseAsync("tx");

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }

        MySqlConnection.ClearAllPools();
        await MySqlTestServer.DropDatabaseAsync(database);
    }

    private async Task<(IJobClient Client, JobTask<int> Task)> StartAsync(bool worker = true, Action<TypedJobsOptions>? options = null)
    {
        var task = JobTask.Create("record", Number, (n, _) =>
        {
            lock (ran)
            {
                ran.Add(n);
            }

            return ValueTask.CompletedTask;
        });
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var jobs = builder.Services.AddTypedJobs(o =>
        {
            o.UseMySql(MySqlTestServer.For(database));
            o.MaxPayloadBytes = 64;
            options?.Invoke(o);
        }).AddTask(task).AddObserver(observer);
        if (worker)
        {
            // A poll this long means a job runs quickly only if the observed commit woke the worker.
            jobs.AddWorker(w => w.PollInterval = TimeSpan.FromMinutes(5));
        }

        host = builder.Build();
        await host.StartAsync(Ct);
        return (host.Services.GetRequiredService<IJobClient>(), task);
    }

    private async Task<MySqlConnection> ConnectAsync(string? other = null)
    {
        var connection = new MySqlConnection(MySqlTestServer.For(other ?? database));
        await connection.OpenAsync(Ct);
        await using var create = connection.CreateCommand();
        create.CommandText = "CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY) ENGINE=InnoDB";
        await create.ExecuteNonQueryAsync(Ct);
        return connection;
    }

    /// <summary>A consistent read in <paramref name="transaction"/>, so its snapshot is taken before what the test does next.</summary>
    private static async Task TakeSnapshotAsync(MySqlTransaction transaction)
    {
        await using var snapshot = transaction.Connection!.CreateCommand();
        snapshot.Transaction = transaction;
        snapshot.CommandText = "SELECT COUNT(*) FROM orders";
        await snapshot.ExecuteScalarAsync(Ct);
    }

    private static async Task InsertOrderAsync(MySqlConnection connection, MySqlTransaction transaction, int id)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO orders (id) VALUES (@id)";
        insert.Parameters.AddWithValue("@id", id);
        await insert.ExecuteNonQueryAsync(Ct);
    }

    [Fact]
    public async Task Commit_MakesTheJobExist_AndWakesTheWorkerAndObserversAfterwards()
    {
        var (client, task) = await StartAsync();
        await using var connection = await ConnectAsync();
        JobId id;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            await InsertOrderAsync(connection, transaction, 1);
            id = await client.InTransaction(transaction).EnqueueAsync(task, 7, cancellationToken: Ct);
            Assert.Null(await client.GetJobAsync(id, Ct));
            Assert.DoesNotContain(observer.Events, e => e.JobId == id);
            await transaction.CommitAsync(Ct);
        }

        var done = await client.WaitForCompletionAsync(id, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal(JobState.Succeeded, done.State);
        lock (ran)
        {
            Assert.Contains(7, ran);
        }

        await EventuallyAsync(() => observer.Events.Any(e => e.JobId == id && e.Kind == JobEventKind.Enqueued), "the Enqueued event after commit");
    }

    [Fact]
    public async Task GeneratedStub_OnTheBoundClient_EnqueuesInTheTransaction()
    {
        var (client, _) = await StartAsync(worker: false);
        await using var connection = await ConnectAsync();
        JobId kept;
        JobId dropped;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            kept = await client.InTransaction(transaction).EnqueueOrderPlacedAsync("o-1", cancellationToken: Ct);
            await transaction.CommitAsync(Ct);
        }

        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            dropped = await client.InTransaction(transaction).EnqueueOrderPlacedAsync("o-2", cancellationToken: Ct);
            await transaction.RollbackAsync(Ct);
        }

        Assert.Equal("mysql-tests.order-placed", (await client.GetJobAsync(kept, Ct))!.TaskName);
        Assert.Null(await client.GetJobAsync(dropped, Ct));
    }

    [Fact]
    public async Task Rollback_LeavesNeitherTheJobNorTheCallersRows()
    {
        var (client, task) = await StartAsync(worker: false);
        await using var connection = await ConnectAsync();
        JobId id;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            await InsertOrderAsync(connection, transaction, 2);
            id = await client.InTransaction(transaction).EnqueueAsync(task, 1, cancellationToken: Ct);
            await transaction.RollbackAsync(Ct);
        }

        // A later commit on the same connection must not publish the rolled-back job's event.
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            await client.InTransaction(transaction).EnqueueAsync(task, 2, cancellationToken: Ct);
            await transaction.CommitAsync(Ct);
        }

        await EventuallyAsync(() => observer.Events.Count(e => e.Kind == JobEventKind.Enqueued) == 1, "the committed job's event");
        Assert.Null(await client.GetJobAsync(id, Ct));
        Assert.DoesNotContain(observer.Events, e => e.JobId == id);
        Assert.Equal(0L, Convert.ToInt64(await MySqlTestServer.ScalarAsync("SELECT COUNT(*) FROM orders", database)));
    }

    [Fact]
    public async Task InTransaction_GoesThroughTheClientsChecks_AndUniqueKeys()
    {
        var (client, task) = await StartAsync(worker: false);
        var existing = await client.EnqueueAsync(task, 1, new JobOptions { UniqueKey = "once" }, Ct);
        await using var connection = await ConnectAsync();
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var bound = client.InTransaction(transaction);

        var deduplicated = await bound.EnqueueAsync(task, 2, new JobOptions { UniqueKey = "once" }, Ct);
        var fresh = await bound.EnqueueAsync(task, 3, new JobOptions { UniqueKey = "twice" }, Ct);
        var again = await bound.EnqueueAsync(task, 4, new JobOptions { UniqueKey = "twice" }, Ct);
        await Assert.ThrowsAsync<PayloadTooLargeException>(async () => await bound.EnqueueSerializedAsync("record", new byte[100], cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await bound.EnqueueAsync(task, 3, new JobOptions { Queue = "bad queue" }, Ct));
        await transaction.CommitAsync(Ct);

        Assert.Equal(existing, deduplicated);
        Assert.Equal(fresh, again);
        Assert.Equal(2, (await ((IJobAdmin)client).ListJobsAsync(new JobsListParams(), Ct)).Jobs.Count);
    }

    [Fact]
    public async Task Store_ObservesTheCommitThroughTheInsertedRowsLock_AndNeverCallsAfterCommitForARollback()
    {
        await using var storage = new MySqlStorage(new MySqlStorageOptions { ConnectionString = MySqlTestServer.For(database) });
        await storage.InitializeAsync(Ct);
        await using var connection = await ConnectAsync();
        var rolledBack = 0;
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        JobInsert Job() => new() { Id = JobId.New(), TaskName = "t", Queue = "default", Payload = [1] };

        JobsInsertInTransactionResult first;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            first = await storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(transaction, [Job()], () => rolledBack++), Ct);
            await transaction.RollbackAsync(Ct);
        }

        JobsInsertInTransactionResult second;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            second = await storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(transaction, [Job()], () => committed.TrySetResult()), Ct);
            // Still open: nothing may have been reported yet.
            Assert.False(committed.Task.IsCompleted);
            await transaction.CommitAsync(Ct);
        }

        await committed.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.True(first.CommitObserved);
        Assert.True(second.CommitObserved);
        Assert.Equal(0, rolledBack);
    }

    [Fact]
    public async Task Store_AnOpenTransactionThatEnqueued_DoesNotHoldUpOtherEnqueues()
    {
        // The caller's transaction runs at the server's default isolation (REPEATABLE READ) and stays open while other
        // sessions enqueue. Job ids are time-ordered: a lock on the range above the newest id (or on a key's range) would
        // make every later insert wait until the caller's transaction ended, so the plain inserts would time out.
        await using var storage = await OpenStoreAsync();
        var holder = NewJob() with { UniqueKey = "held" };
        await storage.JobsInsertAsync(new JobsInsertParams([holder]), Ct);
        await using var connection = await ConnectAsync();
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var inTransaction = await storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(transaction,
            [NewJob(), NewJob() with { UniqueKey = "held" }, NewJob() with { UniqueKey = "fresh" }]), Ct);

        var others = storage.JobsInsertAsync(new JobsInsertParams([NewJob(), NewJob() with { UniqueKey = "other" }, NewJob()]), Ct).AsTask();
        var inserted = await others.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await transaction.CommitAsync(Ct);

        Assert.All(inserted.Outcomes, o => Assert.True(o.Inserted));
        Assert.Equal([true, false, true], inTransaction.Outcomes.Select(o => o.Inserted));
        Assert.Equal(holder.Id, inTransaction.Outcomes[1].Id);
    }

    [Fact]
    public async Task Store_TwoTransactionsEnqueueingInTurn_NeitherWaitsForTheOther_AndBothCommit()
    {
        // Two business transactions interleave their enqueues; neither may wait for the other's end (which, from inside
        // the other, is a deadlock that rolls one of them back).
        await using var storage = await OpenStoreAsync();
        await using var a = await ConnectAsync();
        await using var b = await ConnectAsync();
        await using var ta = await a.BeginTransactionAsync(Ct);
        await using var tb = await b.BeginTransactionAsync(Ct);
        var jobs = Enumerable.Range(0, 6).Select(_ => NewJob()).ToArray();

        for (var i = 0; i < jobs.Length; i++)
        {
            var enqueue = storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(i % 2 == 0 ? ta : tb, [jobs[i]]), Ct).AsTask();
            Assert.True((await enqueue.WaitAsync(TimeSpan.FromSeconds(30), Ct)).Outcomes[0].Inserted);
        }

        await ta.CommitAsync(Ct);
        await tb.CommitAsync(Ct);

        foreach (var job in jobs)
        {
            Assert.NotNull((await storage.JobsGetAsync(new JobsGetParams(job.Id), Ct)).Job);
        }
    }

    [Fact]
    public async Task Store_InTransaction_ReturnsTheSameOutcomesAsAPlainInsert_ForRepeatedIdsAndHeldKeys()
    {
        await using var storage = await OpenStoreAsync();
        var existing = NewJob() with { UniqueKey = "held" };
        await storage.JobsInsertAsync(new JobsInsertParams([existing]), Ct);
        var fresh = NewJob();
        var keyed = NewJob() with { UniqueKey = "fresh" };
        var blocked = NewJob() with { UniqueKey = "blocked-by-existing" };
        JobInsert[] batch =
        [
            existing,                                          // the id exists: idempotent
            NewJob() with { UniqueKey = "held" },              // the key is held: the holder's id
            fresh,                                             // inserted
            fresh,                                             // the same id again in the batch
            keyed,                                             // inserted, holds "fresh"
            NewJob() with { UniqueKey = "fresh" },             // held by the job above
            existing with { UniqueKey = "blocked-by-existing" }, // the id exists, whatever its key
            blocked,                                           // inserted: the repeated id above took no key
        ];
        await using var connection = await ConnectAsync();

        JobsInsertInTransactionResult result;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            result = await storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(transaction, batch), Ct);
            var again = await storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(transaction, batch), Ct);
            Assert.Equal(result.Outcomes.Select(o => o.Id), again.Outcomes.Select(o => o.Id));
            Assert.All(again.Outcomes, o => Assert.False(o.Inserted));
            await transaction.CommitAsync(Ct);
        }

        Assert.Equal(
            [(existing.Id, false), (existing.Id, false), (fresh.Id, true), (fresh.Id, false), (keyed.Id, true), (keyed.Id, false),
             (existing.Id, false), (blocked.Id, true)],
            result.Outcomes.Select(o => (o.Id, o.Inserted)));
        Assert.Equal(4, (await storage.JobsCountAsync(new JobsCountParams(new JobFilter()), Ct)).Count);
    }

    [Fact]
    public async Task Store_InTransaction_IdsAndKeysTakenAfterItsSnapshot_ReturnTheirHolders()
    {
        // Rows committed after the caller's transaction took its snapshot are invisible to its reads; the INSERT finds
        // them through the unique indexes instead, and the outcomes must be the same as for rows it could see.
        await using var storage = await OpenStoreAsync();
        await using var connection = await ConnectAsync();
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await TakeSnapshotAsync(transaction);

        var late = NewJob();
        var holder = NewJob() with { UniqueKey = "late" };
        await storage.JobsInsertAsync(new JobsInsertParams([late, holder]), Ct);
        var fresh = NewJob();

        var result = await storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(transaction,
            [late, NewJob() with { UniqueKey = "late" }, fresh, NewJob() with { UniqueKey = "late" }, late with { UniqueKey = "late" }]), Ct);
        await transaction.CommitAsync(Ct);

        Assert.Equal([(late.Id, false), (holder.Id, false), (fresh.Id, true), (holder.Id, false), (late.Id, false)],
            result.Outcomes.Select(o => (o.Id, o.Inserted)));
        Assert.Equal(3, (await storage.JobsCountAsync(new JobsCountParams(new JobFilter()), Ct)).Count);
    }

    [Fact]
    public async Task Store_InTransaction_AKeyTakenAfterItsSnapshot_IsDeduplicatedWithoutHoldingUpItsQueue()
    {
        // The holder, committed after the caller's snapshot, is the queue's only job with a key. An INSERT that ran into it
        // would lock the gap below its key entry until the caller's commit, which is where every job of the queue without
        // a key is entered.
        await using var storage = await OpenStoreAsync();
        await using var connection = await ConnectAsync();
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await TakeSnapshotAsync(transaction);

        var holder = NewJob() with { UniqueKey = "late" };
        await storage.JobsInsertAsync(new JobsInsertParams([holder]), Ct);

        var result = await storage.JobsInsertInTransactionAsync(new JobsInsertInTransactionParams(transaction, [NewJob() with { UniqueKey = "late" }]), Ct);
        var others = storage.JobsInsertAsync(new JobsInsertParams([NewJob()]), Ct).AsTask();
        var inserted = await others.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await transaction.CommitAsync(Ct);

        Assert.Equal((holder.Id, false), (result.Outcomes[0].Id, result.Outcomes[0].Inserted));
        Assert.True(inserted.Outcomes[0].Inserted);
    }

    private async Task<MySqlStorage> OpenStoreAsync()
    {
        var storage = new MySqlStorage(new MySqlStorageOptions { ConnectionString = MySqlTestServer.For(database) });
        await storage.InitializeAsync(Ct);
        return storage;
    }

    private static JobInsert NewJob() => new() { Id = JobId.New(), TaskName = "t", Queue = "default", Payload = [1] };

    [Fact]
    public async Task TransactionOnAnotherDatabase_IsRefused_NamingBoth()
    {
        var (client, task) = await StartAsync(worker: false);
        var other = await MySqlTestServer.CreateDatabaseAsync("txother");
        try
        {
            await using var connection = await ConnectAsync(other);
            await using var transaction = await connection.BeginTransactionAsync(Ct);

            var error = await Assert.ThrowsAsync<ArgumentException>(async () => await client.InTransaction(transaction).EnqueueAsync(task, 1, cancellationToken: Ct));

            Assert.Contains(other, error.Message);
            Assert.Contains(database, error.Message);
        }
        finally
        {
            await MySqlTestServer.DropDatabaseAsync(other);
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(20, Ct);
        }
    }

    private sealed class RecordingObserver : IJobEventObserver
    {
        private readonly List<JobEvent> events = [];

        public IReadOnlyList<JobEvent> Events
        {
            get
            {
                lock (events)
                {
                    return [.. events];
                }
            }
        }

        public ValueTask OnEventAsync(JobEvent jobEvent, CancellationToken cancellationToken)
        {
            lock (events)
            {
                events.Add(jobEvent);
            }

            return ValueTask.CompletedTask;
        }
    }
}
