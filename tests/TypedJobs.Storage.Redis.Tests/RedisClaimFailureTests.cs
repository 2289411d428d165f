using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Redis.Internal;

namespace TypedJobs.Storage.Redis.Tests;

/// <summary>
/// A call of the hot path about several queues is one script per queue, and one queue's script can fail while the others
/// succeed (or run after the client gave up): no job a script leased may be left under a token no worker holds. The
/// failures are made real by breaking one queue's keys (a plain string where a script expects a sorted set or a hash), so
/// the script fails on the server with WRONGTYPE, or by pausing the server's writes.
/// </summary>
public sealed class RedisClaimFailureTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly StandaloneRedisFactory factory = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync() => await factory.DisposeAsync();

    private static JobInsert Job(string queue) => new()
    {
        Id = JobId.New(),
        TaskName = "task",
        Queue = queue,
        Payload = "{}"u8.ToArray(),
        MaxRetries = 0,
    };

    private static JobsClaimParams Claim(params string[] queues) => new()
    {
        WorkerId = "w",
        Queues = queues.Select(q => new QueueClaim(q, 10)).ToArray(),
        Max = 10 * queues.Length,
        LeaseDuration = TimeSpan.FromMinutes(5),
    };

    /// <summary>A store on this test's prefix that logs to <paramref name="logger"/>.</summary>
    private async Task<RedisStorage> OpenAsync(ILogger logger, TimeProvider? clock = null)
    {
        // The factory's store registers the prefix for clean-up.
        await factory.OpenAsync(TimeProvider.System, Ct);
        var store = new RedisStorage(new RedisStorageOptions { KeyPrefix = factory.Prefix, CommandTimeout = TimeSpan.FromMilliseconds(500) },
            new RedisConnection(await factory.MultiplexerAsync(), -1, false), logger, clock);
        await store.InitializeAsync(Ct);
        return store;
    }

    private string QueueKey(string queue, string suffix) => "{" + factory.Prefix + "q:" + queue + "}" + suffix;

    private static async Task<JobRecord> GetAsync(RedisStorage store, JobId id) =>
        (await store.JobsGetAsync(new JobsGetParams(id), Ct)).Job ?? throw new InvalidOperationException($"Job {id} is gone.");

    [Fact]
    public async Task Claim_WhenOneQueuesScriptFails_HandsOutTheJobsTheOtherQueuesLeased()
    {
        var logger = new RecordingLogger();
        await using var store = await OpenAsync(logger);
        var a = Job("qa");
        var b = Job("qb");
        await store.JobsInsertAsync(new JobsInsertParams([a, b]), Ct);
        var db = (await factory.MultiplexerAsync()).GetDatabase();
        // The claim script of qb reads its scheduled set before it writes anything: as a string it fails with WRONGTYPE.
        await db.StringSetAsync(QueueKey("qb", ":s"), "broken");

        var claimed = await store.JobsClaimAsync(Claim("qa", "qb"), Ct);

        var job = Assert.Single(claimed.Jobs);
        Assert.Equal(a.Id, job.Id);
        Assert.Equal(JobState.Running, (await GetAsync(store, a.Id)).State);
        var untouched = await GetAsync(store, b.Id);
        Assert.Equal(JobState.Ready, untouched.State);
        Assert.Equal(0, untouched.Attempt);
        Assert.Contains(logger.Warnings, w => w.Contains("qb", StringComparison.Ordinal) && w.Contains("WRONGTYPE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Claim_WithSharesToPlan_WhenOneQueuesPeekFails_StillClaimsFromTheOtherQueues()
    {
        var logger = new RecordingLogger();
        await using var store = await OpenAsync(logger);
        var a = Job("qa");
        await store.JobsInsertAsync(new JobsInsertParams([a, Job("qb")]), Ct);
        var db = (await factory.MultiplexerAsync()).GetDatabase();
        await db.StringSetAsync(QueueKey("qb", ":s"), "broken");

        // Fewer free slots than the queues could fill: the claim first asks each queue what it would hand out.
        var claimed = await store.JobsClaimAsync(Claim("qa", "qb") with { Max = 5 }, Ct);

        Assert.Equal(a.Id, Assert.Single(claimed.Jobs).Id);
        Assert.Contains(logger.Warnings, w => w.Contains("qb", StringComparison.Ordinal) && w.Contains("WRONGTYPE", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(20)]
    [InlineData(5)]
    public async Task Claim_WhenEveryQueuesScriptFails_Throws(int max)
    {
        await using var store = await OpenAsync(new RecordingLogger());
        await store.JobsInsertAsync(new JobsInsertParams([Job("qa"), Job("qb")]), Ct);
        var db = (await factory.MultiplexerAsync()).GetDatabase();
        await db.StringSetAsync(QueueKey("qa", ":s"), "broken");
        await db.StringSetAsync(QueueKey("qb", ":s"), "broken");

        // 20: both queues are claimed at once; 5: fewer slots than the queues could fill, so the shares are planned first.
        await Assert.ThrowsAnyAsync<RedisException>(async () => await store.JobsClaimAsync(Claim("qa", "qb") with { Max = max }, Ct));
    }

    [Fact]
    public async Task Claim_WhenAScriptFailsAfterLeasingSomeJobs_PutsThoseJobsBackWithoutCountingAnAttempt()
    {
        await using var store = await OpenAsync(new RecordingLogger());
        var first = Job("qb");
        var second = Job("qb");
        await store.JobsInsertAsync(new JobsInsertParams([first, second]), Ct);
        var db = (await factory.MultiplexerAsync()).GetDatabase();
        // The script leases the first job, then fails reading the second one's hash: Redis keeps what a failing script wrote.
        var secondKey = QueueKey("qb", ":j:" + second.Id.Value.ToString("N"));
        await db.KeyDeleteAsync(secondKey);
        await db.StringSetAsync(secondKey, "broken");

        await Assert.ThrowsAnyAsync<RedisException>(async () => await store.JobsClaimAsync(Claim("qb"), Ct));

        var job = await GetAsync(store, first.Id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Null(job.LeaseToken);
        var again = await store.JobsClaimAsync(Claim("qb"), Ct);
        Assert.Equal(first.Id, Assert.Single(again.Jobs).Id);
    }

    [Fact]
    public async Task Claim_AbandonedByTheClientSideTimeout_PutsItsJobsBackOnceTheScriptHasRun()
    {
        // A server of its own: pausing writes would stall every other test on the shared one.
        await using var server = await RedisServerProcess.StartAsync();
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        // Pause and unpause on a connection of their own: the store's connection waits behind its paused script.
        await using var control = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisStorage(new RedisStorageOptions { CommandTimeout = TimeSpan.FromMilliseconds(200) },
            new RedisConnection(multiplexer, -1, false), new RecordingLogger());
        await store.InitializeAsync(Ct);
        var job = Job("qa");
        await store.JobsInsertAsync(new JobsInsertParams([job]), Ct);
        var admin = control.GetServer(server.Endpoint);

        // While writes are paused the claim script waits on the server, however long the client waits: the client-side
        // timeout fires first, and the script runs once writes resume.
        await admin.ExecuteAsync("CLIENT", ["PAUSE", "60000", "WRITE"]);
        try
        {
            await Assert.ThrowsAsync<TimeoutException>(async () => await store.JobsClaimAsync(Claim("qa"), Ct));
        }
        finally
        {
            await admin.ExecuteAsync("CLIENT", ["UNPAUSE"]);
        }

        // Reads go on the store's connection behind the claim, so the first answer comes after the claim script ran.
        var until = DateTime.UtcNow + Deadline;
        JobRecord record;
        while ((record = await GetAsync(store, job.Id)).State != JobState.Ready || record.Attempt != 0)
        {
            Assert.True(DateTime.UtcNow < until, $"The abandoned claim left the job {record.State} with attempt {record.Attempt}.");
            await Task.Delay(20, Ct);
        }

        Assert.Null(record.LeaseToken);
        Assert.Equal(job.Id, Assert.Single((await store.JobsClaimAsync(Claim("qa"), Ct)).Jobs).Id);
    }

    [Fact]
    public async Task Rescue_WhenOneQueuesScriptFails_ReportsTheJobsTheOtherQueuesRescued()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logger = new RecordingLogger();
        await using var store = await OpenAsync(logger, clock);
        var a = Job("qa");
        var b = Job("qb");
        await store.JobsInsertAsync(new JobsInsertParams([a, b]), Ct);
        Assert.Equal(2, (await store.JobsClaimAsync(Claim("qa", "qb") with { LeaseDuration = TimeSpan.FromMinutes(1) }, Ct)).Jobs.Count);
        clock.Advance(TimeSpan.FromMinutes(2));
        // Both leases expired; qb's running set, which its rescue reads, becomes a string (WRONGTYPE).
        var db = (await factory.MultiplexerAsync()).GetDatabase();
        await db.KeyDeleteAsync(QueueKey("qb", ":w"));
        await db.StringSetAsync(QueueKey("qb", ":w"), "broken");

        var rescued = await store.JobsRescueAsync(new JobsRescueParams(100), Ct);

        var job = Assert.Single(rescued.Jobs);
        Assert.Equal(a.Id, job.Job.Id);
        Assert.Equal(JobState.Dead, job.NewState);
        Assert.Equal(JobState.Dead, (await GetAsync(store, a.Id)).State);
        Assert.Contains(logger.Warnings, w => w.Contains("qb", StringComparison.Ordinal) && w.Contains("WRONGTYPE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rescue_WhenEveryQueuesScriptFails_Throws()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = await OpenAsync(new RecordingLogger(), clock);
        await store.JobsInsertAsync(new JobsInsertParams([Job("qa")]), Ct);
        await store.JobsClaimAsync(Claim("qa"), Ct);
        var db = (await factory.MultiplexerAsync()).GetDatabase();
        await db.KeyDeleteAsync(QueueKey("qa", ":w"));
        await db.StringSetAsync(QueueKey("qa", ":w"), "broken");

        await Assert.ThrowsAnyAsync<RedisException>(async () => await store.JobsRescueAsync(new JobsRescueParams(100), Ct));
    }
}
