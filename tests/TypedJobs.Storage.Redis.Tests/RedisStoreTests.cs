using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Redis.Internal;

namespace TypedJobs.Storage.Redis.Tests;

/// <summary>What the Redis store does beyond the shared contract: wake-up across processes, startup checks and errors, script reloading, key layout, replicas.</summary>
public sealed class RedisStoreTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly StandaloneRedisFactory factory = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync() => await factory.DisposeAsync();

    private static JobInsert Job(string queue = "default") => new()
    {
        Id = JobId.New(),
        TaskName = "task",
        Queue = queue,
        Payload = "{}"u8.ToArray(),
        MaxRetries = 3,
    };

    private async Task<RedisStorage> OpenAsync()
    {
        var store = (RedisStorage)await factory.OpenAsync(TimeProvider.System, Ct);
        await store.InitializeAsync(Ct);
        return store;
    }

    [Fact]
    public async Task Complete_SentAgainAfterItApplied_AnswersAppliedWithoutApplyingTwice()
    {
        // A completion batch over two queues is a script per queue; when the call fails after one queue's script ran (or
        // its answer is lost), the writer sends the whole batch again. The queue that applied must answer true again —
        // not false, which reads as a lost lease and skips the job's events and metrics — and change nothing. Another
        // completion with the same token (a different target) or with another token is still refused.
        var store = await OpenAsync();
        await store.JobsInsertAsync(new JobsInsertParams([Job("first"), Job("second")]), Ct);
        var claimed = (await store.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = [new QueueClaim("first", 1), new QueueClaim("second", 1)], Max = 2, LeaseDuration = TimeSpan.FromMinutes(5),
        }, Ct)).Jobs;
        Assert.Equal(2, claimed.Count);
        var done = claimed.Single(j => j.Queue == "first");
        var retried = claimed.Single(j => j.Queue == "second");
        JobCompletion[] completions =
        [
            new() { Job = done.Ref, LeaseToken = done.LeaseToken!.Value, TargetState = JobState.Succeeded },
            new()
            {
                Job = retried.Ref, LeaseToken = retried.LeaseToken!.Value, TargetState = JobState.Ready, Delay = TimeSpan.FromHours(1),
                Error = "boom", Failed = true,
            },
        ];

        var first = await store.JobsCompleteAsync(new JobsCompleteParams(completions), Ct);
        var again = await store.JobsCompleteAsync(new JobsCompleteParams(completions), Ct);
        var other = await store.JobsCompleteAsync(new JobsCompleteParams(
            [completions[0] with { TargetState = JobState.Dead }, completions[1] with { LeaseToken = Guid.NewGuid() }]), Ct);

        Assert.Equal([true, true], first.Applied);
        Assert.Equal([true, true], again.Applied);
        Assert.Equal([false, false], other.Applied);
        var doneNow = (await store.JobsGetAsync(new JobsGetParams(done.Id), Ct)).Job!;
        var retriedNow = (await store.JobsGetAsync(new JobsGetParams(retried.Id), Ct)).Job!;
        Assert.Equal((JobState.Succeeded, 1), (doneNow.State, doneNow.Attempt));
        Assert.Equal((JobState.Scheduled, 1, "boom"), (retriedNow.State, retriedNow.Attempt, retriedNow.LastError));
        var stats = await store.StatsThroughputAsync(new StatsThroughputParams(TimeSpan.FromMinutes(1)), Ct);
        Assert.Equal((1, 1), (stats.Buckets.Sum(b => b.Succeeded), stats.Buckets.Sum(b => b.Failed)));
    }

    [Fact]
    public async Task Claim_WithATaskAtItsCap_ParksItsBacklog_SoJobsBehindMoreThanTheScanBudgetAreClaimed()
    {
        // A claim examines at most 10,000 ready jobs. Before parking, 12,000 jobs of a task at its cap ahead of the others
        // held every other job of the queue back until the backlog drained below that; now the first claims move the capped
        // jobs aside once, and the jobs behind them are claimed.
        var store = await OpenAsync();
        const int backlog = 12_000;
        var capped = Enumerable.Range(0, backlog).Select(_ => Job("q") with { TaskName = "capped" }).ToArray();
        foreach (var chunk in capped.Chunk(1000))
        {
            await store.JobsInsertAsync(new JobsInsertParams(chunk), Ct);
        }

        var others = Enumerable.Range(0, 3).Select(_ => Job("q") with { TaskName = "other" }).ToArray();
        await store.JobsInsertAsync(new JobsInsertParams(others), Ct);
        var atCap = new Dictionary<string, int>(StringComparer.Ordinal) { ["capped"] = 0 };
        JobsClaimParams Claim(int max, IReadOnlyDictionary<string, int>? limits, params string[] queues) => new()
        {
            WorkerId = "w", Queues = queues.Select(q => new QueueClaim(q, max)).ToArray(), Max = max, LeaseDuration = TimeSpan.FromMinutes(5),
            TaskLimits = limits,
        };

        var claimed = new List<JobRecord>();
        for (var round = 0; round < 3 && claimed.Count < others.Length; round++)
        {
            claimed.AddRange((await store.JobsClaimAsync(Claim(10, atCap, "q"), Ct)).Jobs);
        }

        Assert.Equal(others.Select(j => j.Id).Order(), claimed.Select(j => j.Id).Order());

        // From now on a claim reads none of the parked jobs: a new job behind them is claimed at once, also by a worker
        // that claims from two queues (its plan reads each queue first).
        var next = Job("q") with { TaskName = "other" };
        var elsewhere = Job("r") with { TaskName = "other" };
        await store.JobsInsertAsync(new JobsInsertParams([next, elsewhere]), Ct);
        var both = (await store.JobsClaimAsync(Claim(1, atCap, "q", "r") with { Max = 2 }, Ct)).Jobs;
        Assert.Equal(new[] { next.Id, elsewhere.Id }.Order(), both.Select(j => j.Id).Order());

        // The parked jobs are still waiting, counted and in claim order: a worker with room for two takes the first two,
        // one without caps the next ones, a cancel reaches a parked job, and clearing the queue deletes them all.
        var counts = (await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues.Single(q => q.Name == "q");
        Assert.Equal(backlog, counts.Counts[JobState.Ready]);
        var firstTwo = (await store.JobsClaimAsync(Claim(10, new Dictionary<string, int>(StringComparer.Ordinal) { ["capped"] = 2 }, "q"), Ct)).Jobs;
        Assert.Equal([capped[0].Id, capped[1].Id], firstTwo.Select(j => j.Id));
        Assert.True((await store.JobsCancelAsync(new JobsCancelParams(new JobRef(capped[2].Id, "q")), Ct)).Cancelled);
        var uncapped = (await store.JobsClaimAsync(Claim(3, null, "q"), Ct)).Jobs;
        Assert.Equal([capped[3].Id, capped[4].Id, capped[5].Id], uncapped.Select(j => j.Id));
        Assert.Equal(backlog - 6, (await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues.Single(q => q.Name == "q").Counts[JobState.Ready]);

        Assert.Equal(backlog - 6, (await store.QueuesClearAsync(new QueuesClearParams("q"), Ct)).Deleted);
        Assert.Equal(0, (await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues.Single(q => q.Name == "q").Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Claim_WhenItsScanBudgetEndsInACappedBacklog_GivesNoParkedJobThatComesLaterInClaimOrder()
    {
        // A parked Normal job of task "u", then 10,001 High jobs of a task at its cap and a High job of "u" behind them.
        // The claim's budget (10,000) ends inside the capped backlog: the parked job comes after the unread High jobs in
        // claim order, so it must not be handed out ahead of them; the High job of "u" is the next one claimed.
        var store = await OpenAsync();
        var lease = TimeSpan.FromMinutes(5);
        JobsClaimParams Claim(int max, Dictionary<string, int> limits) => new()
        {
            WorkerId = "w", Queues = [new QueueClaim("q", max)], Max = max, LeaseDuration = lease, TaskLimits = limits,
        };

        var parked = Job("q") with { TaskName = "u" };
        await store.JobsInsertAsync(new JobsInsertParams([parked]), Ct);
        Assert.Empty((await store.JobsClaimAsync(Claim(1, new(StringComparer.Ordinal) { ["u"] = 0 }), Ct)).Jobs);
        foreach (var chunk in Enumerable.Range(0, 10_001).Select(_ => Job("q") with { TaskName = "b", Priority = Priority.High }).Chunk(1000))
        {
            await store.JobsInsertAsync(new JobsInsertParams(chunk), Ct);
        }

        var urgent = Job("q") with { TaskName = "u", Priority = Priority.High };
        await store.JobsInsertAsync(new JobsInsertParams([urgent]), Ct);

        var bAtCap = new Dictionary<string, int>(StringComparer.Ordinal) { ["b"] = 0 };
        var order = new List<JobId>();
        for (var round = 0; round < 4 && order.Count < 2; round++)
        {
            order.AddRange((await store.JobsClaimAsync(Claim(1, bAtCap), Ct)).Jobs.Select(j => j.Id));
        }

        Assert.Equal([urgent.Id, parked.Id], order);
    }

    [Fact]
    public async Task Claim_LeasesOnlyWaitingJobs_AndDropsAParkedMemberWhoseJobWasFinishedBehindItsBack()
    {
        // A worker of an earlier version knows nothing of parked sets: its cancel of a parked job finishes the job's hash
        // and leaves the member parked. A claim must not lease that job again.
        var store = await OpenAsync();
        var lease = TimeSpan.FromMinutes(5);
        var jobs = Enumerable.Range(0, 3).Select(_ => Job("q") with { TaskName = "t" }).ToArray();
        await store.JobsInsertAsync(new JobsInsertParams(jobs), Ct);
        var atCap = new Dictionary<string, int>(StringComparer.Ordinal) { ["t"] = 0 };
        Assert.Empty((await store.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = [new QueueClaim("q", 3)], Max = 3, LeaseDuration = lease, TaskLimits = atCap,
        }, Ct)).Jobs);

        var db = (await factory.MultiplexerAsync()).GetDatabase();
        var queueBase = "{" + factory.Prefix + "q:q}";
        Assert.Equal(3, await db.SortedSetLengthAsync(queueBase + ":k:t"));
        await db.HashSetAsync(queueBase + ":j:" + jobs[1].Id.Value.ToString("N"), [new HashEntry("s", "5"), new HashEntry("f", "1")]);

        var claimed = (await store.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = [new QueueClaim("q", 3)], Max = 3, LeaseDuration = lease,
        }, Ct)).Jobs;
        Assert.Equal([jobs[0].Id, jobs[2].Id], claimed.Select(j => j.Id));
        Assert.Equal(0, await db.SortedSetLengthAsync(queueBase + ":k:t"));
        Assert.Equal(JobState.Cancelled, (await store.JobsGetAsync(new JobsGetParams(jobs[1].Id), Ct)).Job!.State);
    }

    [Fact]
    public async Task Prune_StartsEachCallAtTheNextQueue_SoAQueueWithMoreThanTheMaximumHoldsNoOtherBack()
    {
        var store = await OpenAsync();
        foreach (var queue in new[] { "a", "b" })
        {
            await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 6).Select(_ => Job(queue)).ToArray()), Ct);
            var claimed = (await store.JobsClaimAsync(new JobsClaimParams
            {
                WorkerId = "w", Queues = [new QueueClaim(queue, 6)], Max = 6, LeaseDuration = TimeSpan.FromMinutes(5),
            }, Ct)).Jobs;
            var done = await store.JobsCompleteAsync(new JobsCompleteParams(claimed.Select(j => new JobCompletion
            {
                Job = j.Ref, LeaseToken = j.LeaseToken!.Value, TargetState = JobState.Succeeded,
            }).ToList()), Ct);
            Assert.All(done.Applied, Assert.True);
        }

        // Two calls of four: one queue alone would give up four, then two, and the other only two.
        var first = await store.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded], TimeSpan.Zero, 4), Ct);
        var second = await store.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded], TimeSpan.Zero, 4), Ct);

        Assert.Equal((4, 4), (first.Deleted, second.Deleted));
        foreach (var queue in new[] { "a", "b" })
        {
            Assert.Equal(2, (await store.JobsCountAsync(new JobsCountParams(new JobFilter { Queue = queue }), Ct)).Count);
        }
    }

    [Fact]
    public async Task Insert_WakesAWorkerWaitingOnAnotherStoreInstance_ThroughPubSub()
    {
        var producer = await OpenAsync();
        var worker = await OpenAsync();
        // The first wait subscribes; a wait that is already cancelled returns once the subscription stands.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await worker.JobsWaitAsync(new JobsWaitParams(["emails"]), new CancellationToken(canceled: true)));

        var waiting = worker.JobsWaitAsync(new JobsWaitParams(["emails"]), Ct).AsTask();
        Assert.False(waiting.IsCompleted);
        await producer.JobsInsertAsync(new JobsInsertParams([Job("emails")]), Ct);

        await waiting.WaitAsync(Deadline, Ct);
    }

    [Fact]
    public void WakeCoalescer_PublishesTheFirstNoticeAtOnce_AndFoldsABurstIntoOneMoreAtTheWindowsEnd()
    {
        var time = new FakeTimeProvider();
        var published = new List<string>();
        var coalescer = new WakeCoalescer(TimeSpan.FromMilliseconds(5), time, q =>
        {
            lock (published)
            {
                published.Add(q);
            }
        });

        coalescer.Notify("a");
        var afterFirst = published.Count;
        for (var i = 0; i < 20; i++)
        {
            coalescer.Notify("a");
        }

        var duringBurst = published.Count;
        coalescer.Notify("b");
        time.Advance(TimeSpan.FromMilliseconds(5));
        var afterWindow = published.Count;

        Assert.Equal(1, afterFirst);
        Assert.Equal(1, duringBurst);
        Assert.Equal(3, afterWindow);
        Assert.Equal(["a", "b", "a"], published);
    }

    [Fact]
    public async Task Startup_UnreachableServer_FailsNamingTheEndpointAndNeverThePassword()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var options = new RedisStorageOptions { Configuration = $"127.0.0.1:{port},password=s3cret-pass" };
        var store = new RedisStorage(options, new RedisConnection(ConfigurationOptions.Parse($"127.0.0.1:{port},password=s3cret-pass,connectTimeout=2000"),
            -1, false));

        var error = await Assert.ThrowsAsync<RedisStorageException>(async () => await store.InitializeAsync(Ct));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pass", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_WrongPassword_FailsSayingAuthenticationFailedAndNeverThePassword()
    {
        await using var server = await RedisServerProcess.StartAsync("--requirepass", "right-secret");
        var store = new RedisStorage(new RedisStorageOptions(),
            new RedisConnection(ConfigurationOptions.Parse($"{server.Endpoint},password=wrong-secret,connectTimeout=2000"), -1, false));

        var error = await Assert.ThrowsAsync<RedisStorageException>(async () => await store.InitializeAsync(Ct));

        Assert.Contains(server.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.Contains("authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("right-secret", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-persistence", new[] { "--appendonly", "no", "--maxmemory-policy", "allkeys-lru" }, new[] { 4000, 4003 }, false)]
    [InlineData("everysec", new[] { "--appendonly", "yes", "--appendfsync", "everysec" }, new[] { 4002 }, true)]
    [InlineData("snapshots", new[] { "--appendonly", "no", "--save", "60 1" }, new[] { 4001 }, true)]
    [InlineData("safe", new[] { "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction" }, new int[0], true)]
    public async Task Startup_WarnsAboutSettingsThatLoseJobs_AndDeclaresDurableOnlyWithPersistence(string name, string[] settings, int[] warnings,
        bool durable)
    {
        await using var server = await RedisServerProcess.StartAsync(settings);
        var logger = new RecordingLogger();
        await using var store = new RedisStorage(new RedisStorageOptions(), new RedisConnection(ConfigurationOptions.Parse(server.Endpoint), -1, false),
            logger);

        await store.InitializeAsync(Ct);

        Assert.True(warnings.Order().SequenceEqual(logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.EventId).Order()),
            $"{name}: expected warnings {string.Join(",", warnings)}, got: {string.Join(" | ", logger.Entries.Select(e => $"{e.EventId} {e.Message}"))}");
        Assert.All(logger.Entries, e => Assert.Contains(server.Endpoint, e.Message, StringComparison.Ordinal));
        Assert.Equal(durable, store.Capabilities.HasFlag(StorageCapabilities.Durable));
    }

    [Fact]
    public async Task Scripts_AreLoadedAgain_WhenTheServerForgotThem()
    {
        await using var server = await RedisServerProcess.StartAsync();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.Endpoint + ",allowAdmin=true");
        await using var store = new RedisStorage(new RedisStorageOptions(), new RedisConnection(admin, -1, false));
        await store.InitializeAsync(Ct);
        await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);

        await admin.GetServer(server.Endpoint).ScriptFlushAsync();
        var inserted = await store.JobsInsertAsync(new JobsInsertParams([Job()]), Ct);
        var claimed = await store.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = [new QueueClaim("default", 10)], Max = 10, LeaseDuration = TimeSpan.FromMinutes(1),
        }, Ct);

        Assert.True(Assert.Single(inserted.Outcomes).Inserted);
        Assert.Equal(2, claimed.Jobs.Count);
    }

    [Fact]
    public async Task ResultsDelete_CountsEveryAttempt_WhateverHexDigitItsTokenStartsWith()
    {
        var store = await OpenAsync();
        var id = JobId.New();
        var tokens = "0123456789abcdef".Select(c => Guid.ParseExact(c + new string('1', 31), "N")).ToArray();
        await store.ResultsSetAsync(new ResultsSetParams(tokens.Select(t => new ResultWrite(id, t, [1], TimeSpan.FromHours(1))).ToArray()), Ct);

        var deleted = await store.ResultsDeleteAsync(new ResultsDeleteParams([id]), Ct);

        Assert.Equal(tokens.Length, deleted.Deleted);
        Assert.Null((await store.ResultsGetAsync(new ResultsGetParams(id, tokens[14]), Ct)).Result);
    }

    [Fact]
    public async Task Keys_LiveUnderThePrefix_WithOneHashTagPerQueue()
    {
        var store = await OpenAsync();
        var job = Job("emails") with { UniqueKey = "welcome:1" };
        await store.JobsInsertAsync(new JobsInsertParams([job]), Ct);
        var multiplexer = await factory.MultiplexerAsync();

        var keys = new List<string>();
        foreach (var server in multiplexer.GetServers())
        {
            await foreach (var key in server.KeysAsync(pattern: "*" + factory.Prefix + "*"))
            {
                keys.Add(key!);
            }
        }

        var queueKeys = keys.Where(k => k.StartsWith("{" + factory.Prefix + "q:emails}", StringComparison.Ordinal)).ToList();
        Assert.All(keys, k => Assert.StartsWith("{" + factory.Prefix, k, StringComparison.Ordinal));
        Assert.Contains("{" + factory.Prefix + "q:emails}:j:" + job.Id.Value.ToString("N"), queueKeys);
        Assert.Contains("{" + factory.Prefix + "q:emails}:u:welcome:1", queueKeys);
        Assert.Contains("{" + factory.Prefix + "q:emails}:r", queueKeys);
        Assert.Single(queueKeys.Select(k => multiplexer.HashSlot(k)).Distinct());
    }

    [Fact]
    public async Task ReadFromReplicas_SendsAdministrativeReadsToTheReplica_AndWritesToTheMaster()
    {
        await using var master = await RedisServerProcess.StartAsync();
        await using var replica = await RedisServerProcess.StartAsync("--replicaof", "127.0.0.1", master.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{master.Endpoint},{replica.Endpoint},allowAdmin=true");
        var deadline = DateTime.UtcNow + Deadline;
        while (!((await admin.GetServer(replica.Endpoint).InfoRawAsync("replication")) ?? "").Contains("master_link_status:up", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "The replica did not connect to its master.");
            await Task.Delay(50, Ct);
        }

        await admin.GetServer(replica.Endpoint).ConfigSetAsync("appendonly", "no");
        await using var store = new RedisStorage(new RedisStorageOptions { ReadFromReplicas = true }, new RedisConnection(admin, -1, true));
        await store.InitializeAsync(Ct);
        await admin.GetServer(replica.Endpoint).ExecuteAsync("CONFIG", ["RESETSTAT"]);
        var job = Job();

        await store.JobsInsertAsync(new JobsInsertParams([job]), Ct);
        await admin.GetServer(master.Endpoint).ExecuteAsync("WAIT", [1, 5000]);
        var listed = await store.JobsListAsync(new JobsListParams(), Ct);
        var queues = await store.QueuesListAsync(new QueuesListParams(), Ct);
        var stats = await admin.GetServer(replica.Endpoint).InfoRawAsync("commandstats") ?? "";

        Assert.Equal(job.Id, Assert.Single(listed.Jobs).Id);
        Assert.Equal(1, Assert.Single(queues.Queues).Counts[JobState.Ready]);
        Assert.Contains("cmdstat_evalsha_ro:", stats, StringComparison.Ordinal);
        Assert.DoesNotContain("cmdstat_evalsha:", stats, StringComparison.Ordinal);
    }
}
