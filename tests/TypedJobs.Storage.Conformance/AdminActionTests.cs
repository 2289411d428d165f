namespace TypedJobs.Storage.Conformance;

/// <summary>
/// Administration beyond single jobs: counts and lists by text and time, bulk retry/cancel/delete of everything a
/// filter matches in bounded batches, the worker registry and throughput statistics.
/// </summary>
public abstract class AdminActionTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private async Task<long> CountAsync(JobFilter filter) => (await Admin.JobsCountAsync(new JobsCountParams(filter), Ct)).Count;

    private async Task<IReadOnlyList<JobsBulkItem>> BulkAsync(JobsBulkAction action, JobFilter filter, int max = 500) =>
        (await Admin.JobsBulkAsync(new JobsBulkParams(action, filter, max), Ct)).Jobs;

    [Fact]
    public async Task Count_AppliesEveryCriterionOfTheFilter()
    {
        await InsertOneAsync(NewJob("a", "t1"));
        await InsertOneAsync(NewJob("a", "t2"));
        await InsertOneAsync(NewJob("b", "t1", delay: TimeSpan.FromMinutes(1)));

        Assert.Equal(3, await CountAsync(new JobFilter()));
        Assert.Equal(2, await CountAsync(new JobFilter { Queue = "a" }));
        Assert.Equal(2, await CountAsync(new JobFilter { TaskName = "t1" }));
        Assert.Equal(1, await CountAsync(new JobFilter { TaskName = "t1", State = JobState.Scheduled }));
        Assert.Equal(0, await CountAsync(new JobFilter { Queue = "b", State = JobState.Ready }));
    }

    [Fact]
    public async Task Filter_ByCreationTime_IsAHalfOpenRange()
    {
        var early = await InsertOneAsync(NewJob());
        Clock.Advance(TimeSpan.FromMinutes(1));
        var boundary = Now;
        var middle = await InsertOneAsync(NewJob());
        Clock.Advance(TimeSpan.FromMinutes(1));
        var late = await InsertOneAsync(NewJob());

        var fromBoundary = await Admin.JobsListAsync(new JobsListParams { Filter = new() { CreatedAfter = boundary } }, Ct);
        var beforeLate = await Admin.JobsListAsync(new JobsListParams { Filter = new() { CreatedAfter = boundary, CreatedBefore = Now } }, Ct);
        var beforeBoundary = await CountAsync(new JobFilter { CreatedBefore = boundary });

        Assert.Equal([late, middle], fromBoundary.Jobs.Select(j => j.Id));
        Assert.Equal([middle], beforeLate.Jobs.Select(j => j.Id));
        Assert.Equal(1, beforeBoundary);
        Assert.Equal(early, (await GetAsync(early)).Id);
    }

    [Fact]
    public async Task Filter_ByText_MatchesPayloadOrError_IgnoringAsciiCase()
    {
        Assert.SkipUnless(Admin.Capabilities.HasFlag(StorageCapabilities.TextSearch), "The backend does not declare TextSearch.");
        var inPayload = await InsertOneAsync(NewJob(payload: """{"email":"Ada@Example.com"}"""u8.ToArray()));
        await InsertOneAsync(NewJob(payload: """{"email":"bob@example.org"}"""u8.ToArray()));
        var inError = await FinishedJobAsync(JobState.Dead, queue: "failing");

        var ada = await Admin.JobsListAsync(new JobsListParams { Filter = new() { Text = "ada@EXAMPLE" } }, Ct);
        var failed = await CountAsync(new JobFilter { Text = "FAILED" });
        var none = await CountAsync(new JobFilter { Text = "carol" });

        Assert.Equal(inPayload, Assert.Single(ada.Jobs).Id);
        Assert.Equal(1, failed);
        Assert.Equal("failed", (await GetAsync(inError)).LastError);
        Assert.Equal(0, none);
    }

    [Fact]
    public async Task BulkRetry_TakesDeadAndCancelledJobsThatMatch_InBatches()
    {
        var dead = new List<JobId>();
        for (var i = 0; i < 5; i++)
        {
            dead.Add(await FinishedJobAsync(JobState.Dead, queue: "q"));
        }

        var cancelled = await FinishedJobAsync(JobState.Cancelled, queue: "q");
        var succeeded = await FinishedJobAsync(JobState.Succeeded, queue: "q");
        var otherQueue = await FinishedJobAsync(JobState.Dead, queue: "other");

        var first = await BulkAsync(JobsBulkAction.Retry, new JobFilter { Queue = "q" }, max: 4);
        var second = await BulkAsync(JobsBulkAction.Retry, new JobFilter { Queue = "q" }, max: 4);
        var third = await BulkAsync(JobsBulkAction.Retry, new JobFilter { Queue = "q" }, max: 4);

        Assert.Equal(4, first.Count);
        Assert.Equal(2, second.Count);
        Assert.Empty(third);
        Assert.Equal(dead.Append(cancelled).Order(), first.Concat(second).Select(j => j.Job.Id).Order());
        Assert.All(first.Concat(second), j => Assert.Equal("q", j.Job.Queue));
        Assert.Equal(JobState.Cancelled, first.Concat(second).Single(j => j.Job.Id == cancelled).PreviousState);
        Assert.Equal(JobState.Dead, first.Concat(second).First(j => j.Job.Id == dead[0]).PreviousState);
        Assert.Equal(6, (await QueueAsync("q"))!.Counts[JobState.Ready]);
        Assert.Equal(JobState.Succeeded, (await GetAsync(succeeded)).State);
        Assert.Equal(JobState.Dead, (await GetAsync(otherQueue)).State);
        Assert.Equal(0, (await GetAsync(dead[0])).Attempt);
    }

    [Fact]
    public async Task BulkCancel_TakesUnfinishedJobsThatMatch_AndRunningOnesLoseTheirLease()
    {
        await InsertManyAsync(3, "q", "t");
        var running = await ClaimOneAsync("q");
        await InsertOneAsync(NewJob("q", "t", delay: TimeSpan.FromHours(1)));
        await InsertOneAsync(NewJob("q", "other"));
        var finished = await FinishedJobAsync(JobState.Succeeded, queue: "done");

        var cancelled = await BulkAsync(JobsBulkAction.Cancel, new JobFilter { TaskName = "t" });
        var extend = await Jobs.LeasesExtendAsync(new LeasesExtendParams("worker-1", [new JobLease(running.Ref, running.LeaseToken!.Value)], Lease), Ct);

        Assert.Equal(4, cancelled.Count);
        Assert.Contains(cancelled, j => j.Job.Id == running.Id && j.PreviousState == JobState.Running && j.Attempt == 1);
        Assert.Contains(cancelled, j => j.PreviousState == JobState.Scheduled);
        Assert.Single(extend.Lost);
        Assert.Equal(4, (await QueueAsync("q"))!.Counts[JobState.Cancelled]);
        Assert.Equal(1, (await QueueAsync("q"))!.Counts[JobState.Ready]);
        Assert.Equal(JobState.Succeeded, (await GetAsync(finished)).State);
        Assert.Empty(await BulkAsync(JobsBulkAction.Cancel, new JobFilter { TaskName = "t" }));
    }

    [Fact]
    public async Task BulkDelete_TakesJobsInAnyStateThatMatch_AndReleasesTheirKeys()
    {
        await InsertOneAsync(NewJob("q", uniqueKey: "k"));
        await FinishedJobAsync(JobState.Dead, queue: "q");
        await InsertOneAsync(NewJob("keep"));

        var deleted = await BulkAsync(JobsBulkAction.Delete, new JobFilter { Queue = "q" });

        Assert.Equal(2, deleted.Count);
        Assert.Null(await QueueAsync("q"));
        Assert.NotNull(await QueueAsync("keep"));
        Assert.True(Assert.Single(await InsertAsync(NewJob("q", uniqueKey: "k"))).Inserted);
    }

    [Theory]
    [InlineData(JobsBulkAction.Delete)]
    [InlineData(JobsBulkAction.Cancel)]
    public async Task Bulk_InBatchesThatPassTheCursorOn_ChangesEachMatchingJobOnce_AcrossQueues(JobsBulkAction action)
    {
        // Matching jobs in two queues, with jobs of another task between them that the filter leaves alone.
        foreach (var queue in new[] { "a", "b" })
        {
            await InsertAsync(Enumerable.Range(0, 7).Select(i => NewJob(queue, task: i % 3 == 0 ? "other" : "t")).ToArray());
            await InsertAsync(Enumerable.Range(0, 4).Select(_ => NewJob(queue, task: "t")).ToArray());
        }

        var filter = new JobFilter { TaskName = "t" };
        var seen = new List<JobId>();
        string? cursor = null;
        var calls = 0;
        while (true)
        {
            var batch = await Admin.JobsBulkAsync(new JobsBulkParams(action, filter, 3) { Cursor = cursor }, Ct);
            seen.AddRange(batch.Jobs.Select(j => j.Job.Id));
            cursor = batch.NextCursor;
            calls++;
            if (batch.Jobs.Count < 3)
            {
                break;
            }

            Assert.True(calls < 20, "the batches did not end");
        }

        Assert.Equal(16, seen.Count);
        Assert.Equal(16, seen.Distinct().Count());
        Assert.Equal(0, await CountAsync(new JobFilter { TaskName = "t", State = JobState.Ready }));
        Assert.Equal(6, await CountAsync(new JobFilter { TaskName = "other" }));
        Assert.Equal(6, await CountAsync(new JobFilter { TaskName = "other", State = JobState.Ready }));
    }

    [Fact]
    public async Task Bulk_ACursorThisStoreDidNotMake_IsRejected()
    {
        await InsertOneAsync(NewJob("q"));

        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await Admin.JobsBulkAsync(new JobsBulkParams(JobsBulkAction.Delete, new JobFilter()) { Cursor = "not a cursor" }, Ct));
        Assert.Equal(1, await CountAsync(new JobFilter()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task Bulk_BatchSizeOutsideTheLimit_IsRejected(int max)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await Admin.JobsBulkAsync(new JobsBulkParams(JobsBulkAction.Delete, new JobFilter(), max), Ct));
    }

    [Fact]
    public async Task Workers_Heartbeat_RegistersAndRefreshes_ByTheStoreClock()
    {
        var registration = new WorkerRegistration
        {
            Id = "w1",
            Host = "box",
            ProcessId = 42,
            Queues = ["default", "emails"],
            Tasks = ["send", "count"],
            ContractHash = "abc123",
            SensitiveTasks = ["send"],
            VisibleMembers = new Dictionary<string, IReadOnlyList<string>> { ["send"] = ["to", "subject"] },
            Concurrency = 8,
            Running = 3,
        };
        var started = Now;
        await Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(registration), Ct);
        await Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(registration with { Id = "w0" }), Ct);
        Clock.Advance(TimeSpan.FromSeconds(10));

        var beat = await Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(registration with { Running = 1 }), Ct);
        var list = await Admin.WorkersListAsync(new WorkersListParams(), Ct);

        Assert.Equal(Now, beat.Now);
        Assert.Equal(Now, list.Now);
        Assert.Equal(["w0", "w1"], list.Workers.Select(w => w.Registration.Id));
        var w1 = list.Workers[1];
        Assert.Equal(started, w1.StartedAt);
        Assert.Equal(Now, w1.LastHeartbeatAt);
        Assert.Equal(registration with { Running = 1 }, w1.Registration with
        {
            Queues = registration.Queues, Tasks = registration.Tasks, SensitiveTasks = registration.SensitiveTasks, VisibleMembers = registration.VisibleMembers,
        });
        Assert.Equal(registration.Queues, w1.Registration.Queues);
        Assert.Equal(registration.Tasks, w1.Registration.Tasks);
        // What tools without the task registry hide: which tasks have sensitive payload members, and which members are safe to show.
        Assert.Equal(registration.SensitiveTasks, w1.Registration.SensitiveTasks);
        Assert.Equal(["to", "subject"], Assert.Single(w1.Registration.VisibleMembers!, static m => m.Key == "send").Value);
        Assert.Equal(started, list.Workers[0].LastHeartbeatAt);
    }

    [Fact]
    public async Task Workers_RemoveAndPrune_DropEntries()
    {
        await Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(new WorkerRegistration { Id = "gone" }), Ct);
        await Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(new WorkerRegistration { Id = "stale" }), Ct);
        Clock.Advance(TimeSpan.FromMinutes(10));
        await Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(new WorkerRegistration { Id = "live" }), Ct);

        var removed = await Admin.WorkersRemoveAsync(new WorkersRemoveParams("gone"), Ct);
        var again = await Admin.WorkersRemoveAsync(new WorkersRemoveParams("gone"), Ct);
        var pruned = await Admin.WorkersPruneAsync(new WorkersPruneParams(TimeSpan.FromMinutes(5)), Ct);

        Assert.True(removed.Removed);
        Assert.False(again.Removed);
        Assert.Equal(1, pruned.Removed);
        Assert.Equal(["live"], (await Admin.WorkersListAsync(new WorkersListParams(), Ct)).Workers.Select(w => w.Registration.Id));
    }

    [Fact]
    public async Task Throughput_HasABucketForEveryMinute_AndRescueToDeadCountsAsFailed()
    {
        await InsertOneAsync(NewJob(maxRetries: 0));
        await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(JobState.Dead, Assert.Single((await Jobs.JobsRescueAsync(new JobsRescueParams(10), Ct)).Jobs).NewState);
        var minute = StorageRules.MinuteOf(Now);
        Clock.Advance(TimeSpan.FromMinutes(2));

        var stats = await Admin.StatsThroughputAsync(new StatsThroughputParams(TimeSpan.FromMinutes(5)), Ct);

        Assert.Equal(5, stats.Buckets.Count);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => StorageRules.MinuteOf(Now).AddMinutes(i - 4)), stats.Buckets.Select(b => b.Minute));
        Assert.Equal(1, stats.Buckets.Single(b => b.Minute == minute).Failed);
        Assert.Equal(1, stats.Buckets.Sum(b => b.Failed));
    }

    [Fact]
    public async Task Throughput_Prune_DropsOldMinutes()
    {
        await InsertOneAsync(NewJob());
        Assert.True(await CompleteAsync(await ClaimOneAsync(), JobState.Succeeded));
        Clock.Advance(TimeSpan.FromHours(2));

        var pruned = await Admin.StatsPruneAsync(new StatsPruneParams(TimeSpan.FromHours(1)), Ct);
        var stats = await Admin.StatsThroughputAsync(new StatsThroughputParams(TimeSpan.FromHours(3)), Ct);

        Assert.Equal(1, pruned.Deleted);
        Assert.Equal(0, stats.Buckets.Sum(b => b.Succeeded));
    }
}
