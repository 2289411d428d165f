using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Events;
using TypedJobs.Registration;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>
/// <c>IJobClient.InTransaction</c> on SQLite: jobs join the caller's transaction through the client's normal path (limits,
/// unique keys, events), exist only if it commits, and wake workers and observers after the commit.
/// </summary>
public sealed class TransactionalEnqueueTests : IAsyncDisposable
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(TestJson.Default.Int32);
    private readonly TempDirectory directory = TempDirectory.Create();
    private readonly List<int> ran = [];
    private readonly RecordingObserver observer = new();
    private IHost? host;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(directory.Path, "app.db");

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }

        SqliteConnection.ClearAllPools();
        directory.Dispose();
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
            o.UseSqlite(DatabasePath);
            o.MaxPayloadBytes = 64;
            options?.Invoke(o);
        }).AddTask(task).AddObserver(observer);
        if (worker)
        {
            // A poll this long means a job runs quickly only if the commit woke the worker.
            jobs.AddWorker(w => w.PollInterval = TimeSpan.FromMinutes(5));
        }

        host = builder.Build();
        await host.StartAsync(Ct);
        return (host.Services.GetRequiredService<IJobClient>(), task);
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath}");
        connection.Open();
        using var create = connection.CreateCommand();
        create.CommandText = "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY)";
        create.ExecuteNonQuery();
        return connection;
    }

    [Fact]
    public async Task Commit_MakesTheJobExist_AndWakesTheWorkerAndObserversAfterwards()
    {
        var (client, task) = await StartAsync();
        using var connection = Connect();
        JobId id;
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            id = await client.InTransaction(transaction).EnqueueAsync(task, 7, cancellationToken: Ct);
            Assert.Null(await client.GetJobAsync(id, Ct));
            Assert.DoesNotContain(observer.Events, e => e.JobId == id);
            transaction.Commit();
        }

        var done = await client.WaitForCompletionAsync(id, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Contains(7, ran);
        await Eventually(() => observer.Events.Any(e => e.JobId == id && e.Kind == JobEventKind.Enqueued), "the Enqueued event after commit");
    }

    [Fact]
    public async Task Rollback_LeavesNoJobAndNoEvent()
    {
        var (client, task) = await StartAsync(worker: false);
        using var connection = Connect();
        JobId id;
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            id = await client.InTransaction(transaction).EnqueueAsync(task, 1, cancellationToken: Ct);
            transaction.Rollback();
        }

        // A later commit on the same connection must not publish the rolled-back job's event.
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            await client.InTransaction(transaction).EnqueueAsync(task, 2, cancellationToken: Ct);
            transaction.Commit();
        }

        await Eventually(() => observer.Events.Count(e => e.Kind == JobEventKind.Enqueued) == 1, "the committed job's event");
        Assert.Null(await client.GetJobAsync(id, Ct));
        Assert.DoesNotContain(observer.Events, e => e.JobId == id);
    }

    [Fact]
    public async Task RollbackToASavepoint_ThenCommit_KeepsOnlyTheJobsAfterIt_AndPublishesOnlyTheirEvents()
    {
        var (client, task) = await StartAsync(worker: false);
        using var connection = Connect();
        JobId undone;
        JobId kept;
        using (var transaction = connection.BeginTransaction(deferred: false))
        {
            // What EF Core does when SaveChanges fails inside the caller's transaction: back to its savepoint, then on.
            transaction.Save("before");
            undone = await client.InTransaction(transaction).EnqueueAsync(task, 1, cancellationToken: Ct);
            transaction.Rollback("before");
            kept = await client.InTransaction(transaction).EnqueueAsync(task, 2, cancellationToken: Ct);
            transaction.Commit();
        }

        // Both callbacks run in the order of their inserts: once the kept job's event is out, the other was decided.
        await Eventually(() => observer.Events.Any(e => e.JobId == kept && e.Kind == JobEventKind.Enqueued), "the kept job's event");
        Assert.Null(await client.GetJobAsync(undone, Ct));
        Assert.NotNull(await client.GetJobAsync(kept, Ct));
        Assert.DoesNotContain(observer.Events, e => e.JobId == undone);
    }

    [Fact]
    public async Task InTransaction_GoesThroughTheClientsChecks_AndUniqueKeys()
    {
        var (client, task) = await StartAsync(worker: false);
        var existing = await client.EnqueueAsync(task, 1, new JobOptions { UniqueKey = "once" }, Ct);
        using var connection = Connect();
        using var transaction = connection.BeginTransaction(deferred: false);
        var bound = client.InTransaction(transaction);

        var deduplicated = await bound.EnqueueAsync(task, 2, new JobOptions { UniqueKey = "once" }, Ct);
        await Assert.ThrowsAsync<PayloadTooLargeException>(async () => await bound.EnqueueSerializedAsync("record", new byte[100], cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await bound.EnqueueAsync(task, 3, new JobOptions { Queue = "bad queue" }, Ct));
        transaction.Commit();

        Assert.Equal(existing, deduplicated);
        Assert.Single((await ((IJobAdmin)client).ListJobsAsync(new JobsListParams(), Ct)).Jobs);
    }

    [Fact]
    public async Task TransactionOnAnotherDatabase_IsRefused_NamingBoth()
    {
        var (client, task) = await StartAsync(worker: false);
        using var other = new SqliteConnection($"Data Source={Path.Combine(directory.Path, "other.db")}");
        other.Open();
        using var transaction = other.BeginTransaction();

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await client.InTransaction(transaction).EnqueueAsync(task, 1, cancellationToken: Ct));

        Assert.Contains("other.db", error.Message);
        Assert.Contains("app.db", error.Message);
    }

    [Fact]
    public async Task JobsRoleThatCannotJoinATransaction_IsRefused_NamingTheRole()
    {
        var (client, _) = await StartAsync(worker: false, options: o => o.UseInMemory(StorageRoles.Jobs));
        using var connection = Connect();
        using var transaction = connection.BeginTransaction();

        var error = Assert.Throws<NotSupportedException>(() => client.InTransaction(transaction));

        Assert.Contains("Jobs role", error.Message);
    }

    private static async Task Eventually(Func<bool> condition, string what)
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
                    return events.ToArray();
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
