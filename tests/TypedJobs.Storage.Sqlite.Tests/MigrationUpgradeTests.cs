using Microsoft.Data.Sqlite;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>
/// Upgrading a database made by schema version 1 (the file in Fixtures was written by that version of the store):
/// the expand migration runs on its own and keeps workers of version 1 working; the contract migration waits until it
/// is asked for; a worker refuses a schema that needs a newer version.
/// </summary>
public sealed class MigrationUpgradeTests : IAsyncDisposable
{
    // The insert statement of schema version 1, as workers of that version still send it during a rolling deploy.
    private const string Version1Insert = """
        INSERT INTO typedjobs_jobs (id, task, queue, priority, state, payload, attempt, max_retries, created_at, due_at,
                                    unique_key, unique_until_pruned, trace_parent, trace_state)
        VALUES (randomblob(16), 'old', 'emails', 2, 1, X'7B7D', 0, 3, 0, 0, @key, 0, NULL, NULL)
        ON CONFLICT (unique_key) DO NOTHING
        """;

    private static readonly JobId Ready = new(Guid.Parse("0190a000-0000-7000-8000-000000000001"));
    private static readonly JobId Unique = new(Guid.Parse("0190a000-0000-7000-8000-000000000003"));
    private static readonly JobId Running = new(Guid.Parse("0190a000-0000-7000-8000-000000000004"));
    private static readonly JobId Succeeded = new(Guid.Parse("0190a000-0000-7000-8000-000000000005"));
    private static readonly JobId Dead = new(Guid.Parse("0190a000-0000-7000-8000-000000000006"));

    private readonly TempDirectory directory = TempDirectory.Create();
    private readonly List<SqliteStorage> stores = [];
    private readonly FakeClock clock = new();

    public MigrationUpgradeTests()
    {
        // The fixture was written at 2026-12-01 12:00 UTC; the store's clock reads the next day.
        clock.Advance(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero) - FakeClock.Start);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "v1-jobs.db"), DatabasePath);
    }

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

    private async Task<SqliteStorage> OpenAsync(bool contract = false)
    {
        var store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = DatabasePath, ApplyContractMigrations = contract }, clock);
        stores.Add(store);
        await store.InitializeAsync(Ct);
        return store;
    }

    private int Execute(string sql, string? key = null)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@key", (object?)key ?? DBNull.Value);
        return command.ExecuteNonQuery();
    }

    [Fact]
    public async Task Upgrade_AppliesTheExpandMigration_AndKeepsEveryJob()
    {
        var store = await OpenAsync();
        var status = await store.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);

        Assert.Equal(2, status.CurrentVersion);
        Assert.Equal(SqliteSql.SchemaVersion, status.LatestVersion);
        // The contract step waits to be applied explicitly, and the expand step after it waits with it.
        Assert.Equal([3, 4, 5, 6, 7, 8, 9], status.Pending.Select(m => m.Version));
        Assert.Contains("contract", status.Pending[0].Description);
        Assert.Equal(JobState.Ready, (await store.JobsGetAsync(new JobsGetParams(Ready), Ct)).Job!.State);
        Assert.Equal("welcome:ada", (await store.JobsGetAsync(new JobsGetParams(Unique), Ct)).Job!.UniqueKey);
        Assert.Equal(JobState.Dead, (await store.JobsGetAsync(new JobsGetParams(Dead), Ct)).Job!.State);
        var queues = (await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues;
        Assert.True(queues.Single(q => q.Name == "paused").Paused);
        Assert.Equal("nightly", Assert.Single((await store.SchedulesListAsync(new SchedulesListParams(), Ct)).Schedules).Name);
    }

    [Fact]
    public async Task Upgrade_JobsOfTheOldVersion_CompleteAndKeepTheirResults()
    {
        var store = await OpenAsync();
        var running = (await store.JobsGetAsync(new JobsGetParams(Running), Ct)).Job!;

        var applied = await store.JobsCompleteAsync(new JobsCompleteParams([new JobCompletion
        {
            Job = running.Ref,
            LeaseToken = running.LeaseToken!.Value,
            TargetState = JobState.Succeeded,
            Result = [9],
            ResultTtl = TimeSpan.FromDays(1),
        }]), Ct);
        var legacy = await store.ResultsGetAsync(new ResultsGetParams(Succeeded, Guid.Empty), Ct);
        var fresh = await store.ResultsGetAsync(new ResultsGetParams(Running, running.LeaseToken.Value), Ct);

        Assert.True(Assert.Single(applied.Applied));
        Assert.Null((await store.JobsGetAsync(new JobsGetParams(Succeeded), Ct)).Job!.SucceededLeaseToken);
        Assert.Equal("42"u8.ToArray(), legacy.Result!.Value);
        Assert.Equal(new byte[] { 9 }, fresh.Result!.Value);
    }

    [Fact]
    public async Task ExpandedSchema_StillServesWorkersOfVersion1_UntilTheContractMigration()
    {
        var store = await OpenAsync();

        // A worker of version 1 inserts with its own statement; its key is still unique across the whole database.
        Assert.Equal(1, Execute(Version1Insert, "legacy-key"));
        Assert.Equal(0, Execute(Version1Insert, "welcome:ada"));
        // Before the contract step the database-wide index also dedups a key held in another queue.
        var crossQueue = await store.JobsInsertAsync(new JobsInsertParams([new JobInsert
        {
            Id = JobId.New(), TaskName = "t", Queue = "other", Payload = "{}"u8.ToArray(), UniqueKey = "welcome:ada",
        }]), Ct);
        Assert.Equal(new JobInsertOutcome(Unique, false), Assert.Single(crossQueue.Outcomes));

        var contract = await store.MigrationsApplyAsync(new MigrationsApplyParams(), Ct);

        Assert.Equal([3, 4, 5, 6, 7, 8, 9], contract.Applied.Select(m => m.Version));
        Assert.Equal(9, contract.CurrentVersion);
        Assert.ThrowsAny<SqliteException>(() => Execute(Version1Insert, "k2"));
        var perQueue = new JobInsert { Id = JobId.New(), TaskName = "t", Queue = "other", Payload = "{}"u8.ToArray(), UniqueKey = "welcome:ada" };
        Assert.True(Assert.Single((await store.JobsInsertAsync(new JobsInsertParams([perQueue]), Ct)).Outcomes).Inserted);
        Assert.Empty((await store.MigrationsStatusAsync(new MigrationsStatusParams(), Ct)).Pending);
    }

    [Fact]
    public async Task DryRun_ListsThePendingStatements_AndChangesNothing()
    {
        var store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = DatabasePath }, clock);
        stores.Add(store);

        var dry = await store.MigrationsApplyAsync(new MigrationsApplyParams(DryRun: true), Ct);
        var status = await store.MigrationsStatusAsync(new MigrationsStatusParams(), Ct);

        Assert.Equal([2, 3, 4, 5, 6, 7, 8, 9], dry.Applied.Select(m => m.Version));
        Assert.Contains(dry.Applied[0].Statements, s => s.Contains("ADD COLUMN succeeded_token", StringComparison.Ordinal));
        Assert.Equal(1, status.CurrentVersion);
    }

    [Fact]
    public async Task QueueStateIndex_StaysUntilTheContractStep_AndCountsAndNextDueTimeReadTheSameWithAndWithoutIt()
    {
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams([new JobInsert
        {
            Id = JobId.New(), TaskName = "later", Queue = "later", Payload = "{}"u8.ToArray(), Delay = TimeSpan.FromMinutes(5),
        }]), Ct);
        var claim = new JobsClaimParams { WorkerId = "w", Queues = [new QueueClaim("later", 5)], Max = 5, LeaseDuration = TimeSpan.FromMinutes(1) };
        var countsBefore = await CountsAsync(store);
        var nextBefore = (await store.JobsClaimAsync(claim, Ct)).NextDueIn;

        Assert.Equal(["typedjobs_jobs_queue_state"], Indexes("jobs_queue_state", "jobs_done"));
        await store.MigrationsApplyAsync(new MigrationsApplyParams(), Ct);

        Assert.Equal(["typedjobs_jobs_done"], Indexes("jobs_queue_state", "jobs_done"));
        Assert.Equal(countsBefore, await CountsAsync(store));
        Assert.Equal(TimeSpan.FromMinutes(5), nextBefore);
        Assert.Equal(nextBefore, (await store.JobsClaimAsync(claim, Ct)).NextDueIn);
        Assert.Contains("later:Scheduled=1", countsBefore);
        Assert.Contains("dead:Dead=1", countsBefore);
    }

    private static async Task<string> CountsAsync(SqliteStorage store) => string.Join(", ",
        (await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues
        .SelectMany(q => q.Counts.Where(c => c.Value > 0).Select(c => $"{q.Name}:{c.Key}={c.Value}")));

    private List<string> Indexes(params string[] names) =>
        QueryPlanTests.Indexes(DatabasePath, "typedjobs_jobs").Where(index => names.Any(n => index == "typedjobs_" + n)).ToList();

    [Fact]
    public async Task Worker_RefusesASchemaThatNeedsANewerVersion_ButWorksOnANewerCompatibleOne()
    {
        await (await OpenAsync(contract: true)).DisposeAsync();
        var later = SqliteSql.SchemaVersion + 1;
        Execute($"INSERT INTO typedjobs_migrations (version, description, applied_at) VALUES ({later}, 'a later expand step', 0)");
        await (await OpenAsync()).DisposeAsync();

        Execute($"UPDATE typedjobs_schema SET value = {later} WHERE name = 'minimum_reader'");
        var refused = new SqliteStorage(new SqliteStorageOptions { ConnectionString = DatabasePath }, clock);
        stores.Add(refused);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await refused.InitializeAsync(Ct));

        Assert.Contains($"schema version {later}", error.Message);
        Assert.Contains($"up to {SqliteSql.SchemaVersion}", error.Message);
    }
}
