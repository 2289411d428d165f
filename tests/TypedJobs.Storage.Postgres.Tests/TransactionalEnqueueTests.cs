using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using TypedJobs.Events;
using TypedJobs.Registration;

namespace TypedJobs.Storage.Postgres.Tests;

/// <summary>
/// <c>IJobClient.InTransaction</c> on PostgreSQL: jobs join the caller's <see cref="NpgsqlTransaction"/> (or an EF Core
/// transaction through <c>GetDbTransaction()</c>), exist only if it commits, and wake workers in any process and
/// observers after the commit, which the store observes through a NOTIFY delivered at commit.
/// </summary>
public sealed class TransactionalEnqueueTests : IAsyncLifetime
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(PostgresTestJson.Default.Int32);
    private readonly string schema = PostgresTestServer.NewSchemaName();
    private readonly List<int> ran = [];
    private readonly RecordingObserver observer = new();
    private readonly List<IHost> hosts = [];
    private NpgsqlDataSource? app;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        app = NpgsqlDataSource.Create(PostgresTestServer.ConnectionString);
        await using var create = app.CreateCommand($"CREATE SCHEMA \"{schema}\"; CREATE TABLE \"{schema}\".orders (id serial PRIMARY KEY, item text)");
        await create.ExecuteNonQueryAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }

        if (app is not null)
        {
            await app.DisposeAsync();
        }

        await PostgresTestServer.DropSchemaAsync(schema);
    }

    private async Task<(IJobClient Client, JobTask<int> Task)> StartAsync(bool worker = true)
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
            o.UsePostgres(PostgresTestServer.ConnectionString, p => p.Schema = schema);
            o.MaxPayloadBytes = 64;
        }).AddTask(task).AddObserver(observer);
        if (worker)
        {
            // A poll this long means a job runs quickly only if the commit woke the worker.
            jobs.AddWorker(w => w.PollInterval = TimeSpan.FromMinutes(5));
        }

        var host = builder.Build();
        hosts.Add(host);
        await host.StartAsync(Ct);
        var store = (Internal.PostgresStorage)host.Services.GetRequiredService<IJobStore>();
        await Eventually(() => store.Notifier!.IsListening, "the store's listener");
        return (host.Services.GetRequiredService<IJobClient>(), task);
    }

    private async Task<NpgsqlConnection> ConnectAsync() => await app!.OpenConnectionAsync(Ct);

    [Fact]
    public async Task Commit_MakesTheJobExist_AndWakesTheWorkerAndObserversAfterwards()
    {
        var (client, task) = await StartAsync();
        await using var connection = await ConnectAsync();
        JobId id;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            await using var order = new NpgsqlCommand($"INSERT INTO \"{schema}\".orders (item) VALUES ('book')", connection, transaction);
            await order.ExecuteNonQueryAsync(Ct);
            id = await client.InTransaction(transaction).EnqueueAsync(task, 7, cancellationToken: Ct);
            Assert.Null(await client.GetJobAsync(id, Ct));
            Assert.DoesNotContain(observer.Events, e => e.JobId == id);
            await transaction.CommitAsync(Ct);
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
        await using var connection = await ConnectAsync();
        JobId id;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            id = await client.InTransaction(transaction).EnqueueAsync(task, 1, cancellationToken: Ct);
            await transaction.RollbackAsync(Ct);
        }

        // A later commit on the same connection publishes only its own job's event.
        JobId committed;
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            committed = await client.InTransaction(transaction).EnqueueAsync(task, 2, cancellationToken: Ct);
            await transaction.CommitAsync(Ct);
        }

        await Eventually(() => observer.Events.Any(e => e.JobId == committed), "the committed job's event");
        Assert.Null(await client.GetJobAsync(id, Ct));
        Assert.DoesNotContain(observer.Events, e => e.JobId == id);
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
        await Assert.ThrowsAsync<PayloadTooLargeException>(async () => await bound.EnqueueSerializedAsync("record", new byte[100], cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await bound.EnqueueAsync(task, 3, new JobOptions { Queue = "bad queue" }, Ct));
        await transaction.CommitAsync(Ct);

        Assert.Equal(existing, deduplicated);
        Assert.Single((await ((IJobAdmin)client).ListJobsAsync(new JobsListParams(), Ct)).Jobs);
    }

    [Fact]
    public async Task TransactionOnAnotherDatabase_IsRefused_NamingBoth()
    {
        var (client, task) = await StartAsync(worker: false);
        var otherDb = "tj_other_" + Guid.NewGuid().ToString("N")[..8];
        await PostgresTestServer.ExecuteAsync($"CREATE DATABASE {otherDb}");
        try
        {
            var other = new NpgsqlConnectionStringBuilder(PostgresTestServer.ConnectionString) { Database = otherDb, Pooling = false };
            await using var connection = new NpgsqlConnection(other.ConnectionString);
            await connection.OpenAsync(Ct);
            await using var transaction = await connection.BeginTransactionAsync(Ct);

            var error = await Assert.ThrowsAsync<ArgumentException>(async () => await client.InTransaction(transaction).EnqueueAsync(task, 1, cancellationToken: Ct));

            Assert.Contains(otherDb, error.Message);
            Assert.Contains("database 'postgres'", error.Message);
        }
        finally
        {
            await PostgresTestServer.ExecuteAsync($"DROP DATABASE {otherDb} WITH (FORCE)");
        }
    }

    [Fact]
    public async Task EfCoreTransaction_ThroughGetDbTransaction_CommitsTheJobWithTheEntities()
    {
        var (client, task) = await StartAsync();
        var options = new DbContextOptionsBuilder<ShopContext>().UseNpgsql(PostgresTestServer.ConnectionString).Options;
        JobId id;
        await using (var db = new ShopContext(options, schema))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(Ct);
            db.Orders.Add(new Order { Item = "lamp" });
            await db.SaveChangesAsync(Ct);
            id = await client.InTransaction(transaction.GetDbTransaction()).EnqueueAsync(task, 11, cancellationToken: Ct);
            await transaction.CommitAsync(Ct);
        }

        var done = await client.WaitForCompletionAsync(id, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(1L, await PostgresTestServer.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".orders WHERE item = 'lamp'"));
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

    private sealed class Order
    {
        public int Id { get; set; }

        public string Item { get; set; } = "";
    }

    private sealed class ShopContext(DbContextOptions<ShopContext> options, string schema) : DbContext(options)
    {
        public DbSet<Order> Orders => Set<Order>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) =>
            modelBuilder.Entity<Order>(e =>
            {
                e.ToTable("orders", schema);
                e.Property(o => o.Id).HasColumnName("id");
                e.Property(o => o.Item).HasColumnName("item");
            });
    }
}
