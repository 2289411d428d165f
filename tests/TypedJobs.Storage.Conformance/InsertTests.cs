namespace TypedJobs.Storage.Conformance;

/// <summary>Inserting jobs: fields, due times, batches and unique keys.</summary>
public abstract class InsertTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Insert_ThenGet_RoundTripsEveryField()
    {
        var insert = NewJob("emails", "send-welcome", Priority.High, uniqueKey: "welcome:42", maxRetries: 7, payload: [1, 2, 3, 0, 255]) with
        {
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            TraceState = "vendor=value",
        };

        var outcome = Assert.Single(await InsertAsync(insert));
        var job = await GetAsync(insert.Id);

        Assert.Equal(new JobInsertOutcome(insert.Id, true), outcome);
        Assert.Equal(insert.Id, job.Id);
        Assert.Equal("send-welcome", job.TaskName);
        Assert.Equal("emails", job.Queue);
        Assert.Equal(Priority.High, job.Priority);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(new byte[] { 1, 2, 3, 0, 255 }, job.Payload);
        Assert.Equal(0, job.Attempt);
        Assert.Equal(7, job.MaxRetries);
        Assert.Equal(Now, job.CreatedAt);
        Assert.Equal(Now, job.DueAt);
        Assert.Null(job.StartedAt);
        Assert.Null(job.FinishedAt);
        Assert.Null(job.LeaseExpiresAt);
        Assert.Null(job.LeaseToken);
        Assert.Equal("welcome:42", job.UniqueKey);
        Assert.Null(job.LastError);
        Assert.Equal(insert.TraceParent, job.TraceParent);
        Assert.Equal(insert.TraceState, job.TraceState);
    }

    [Fact]
    public async Task Insert_WithDelay_IsScheduledUntilDueByStoreClock()
    {
        var id = await InsertOneAsync(NewJob(delay: TimeSpan.FromSeconds(10)));

        var before = await GetAsync(id);
        Clock.Advance(TimeSpan.FromSeconds(10));
        var after = await GetAsync(id);

        Assert.Equal(JobState.Scheduled, before.State);
        Assert.Equal(FakeClock.Start.AddSeconds(10), before.DueAt);
        Assert.Equal(JobState.Ready, after.State);
    }

    [Fact]
    public async Task Insert_WithRunAtAndDelay_AddsDelayToRunAt()
    {
        var runAt = Now.AddMinutes(5);

        var id = await InsertOneAsync(NewJob(runAt: runAt, delay: TimeSpan.FromSeconds(30)));

        Assert.Equal(runAt.AddSeconds(30), (await GetAsync(id)).DueAt);
    }

    [Fact]
    public async Task Insert_WithRunAtInThePast_IsReadyAndClaimable()
    {
        var id = await InsertOneAsync(NewJob(runAt: Now.AddHours(-1)));

        Assert.Equal(JobState.Ready, (await GetAsync(id)).State);
        Assert.Equal(id, (await ClaimOneAsync()).Id);
    }

    [Fact]
    public async Task Insert_Batch_ReturnsOutcomesInInputOrder()
    {
        var jobs = Enumerable.Range(0, 20).Select(i => NewJob(queue: $"q{i % 3}")).ToArray();

        var outcomes = await InsertAsync(jobs);

        Assert.Equal(jobs.Select(j => new JobInsertOutcome(j.Id, true)), outcomes);
        foreach (var job in jobs)
        {
            Assert.Equal(job.Queue, (await GetAsync(job.Id)).Queue);
        }
    }

    [Fact]
    public async Task Insert_EmptyBatch_ReturnsNoOutcomes()
    {
        var result = await Jobs.JobsInsertAsync(new JobsInsertParams([]), Ct);

        Assert.Empty(result.Outcomes);
        Assert.Empty(await QueuesAsync());
    }

    [Fact]
    public async Task Insert_UniqueKeyTaken_ReturnsExistingIdAndInsertsNothing()
    {
        var first = await InsertOneAsync(NewJob(uniqueKey: "k"));
        var second = NewJob(uniqueKey: "k");

        var outcome = Assert.Single(await InsertAsync(second));

        Assert.Equal(new JobInsertOutcome(first, false), outcome);
        Assert.Null(await FindAsync(second.Id));
        Assert.Equal(1, (await QueueAsync("default"))!.Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Insert_SameUniqueKeyTwiceInOneBatch_InsertsOnlyTheFirst()
    {
        var a = NewJob(uniqueKey: "k");
        var b = NewJob();
        var c = NewJob(uniqueKey: "k");

        var outcomes = await InsertAsync(a, b, c);

        Assert.Equal([new(a.Id, true), new(b.Id, true), new(a.Id, false)], outcomes);
        Assert.Null(await FindAsync(c.Id));
    }

    [Fact]
    public async Task Insert_UniqueKeyHeldWhileJobIsRunningOrWaitingForRetry()
    {
        var id = await InsertOneAsync(NewJob(uniqueKey: "k"));
        var running = await ClaimOneAsync();

        var whileRunning = Assert.Single(await InsertAsync(NewJob(uniqueKey: "k")));
        Assert.True(await CompleteAsync(running, JobState.Ready, TimeSpan.FromMinutes(1), "boom"));
        var whileScheduled = Assert.Single(await InsertAsync(NewJob(uniqueKey: "k")));

        Assert.Equal(new JobInsertOutcome(id, false), whileRunning);
        Assert.Equal(new JobInsertOutcome(id, false), whileScheduled);
    }

    [Theory]
    [InlineData(JobState.Succeeded)]
    [InlineData(JobState.Dead)]
    [InlineData(JobState.Cancelled)]
    public async Task Insert_UniqueKeyIsReleasedWhenJobFinishes(JobState finalState)
    {
        var first = await FinishedJobAsync(finalState, uniqueKey: "k");
        var again = NewJob(uniqueKey: "k");

        var outcome = Assert.Single(await InsertAsync(again));

        Assert.Equal(new JobInsertOutcome(again.Id, true), outcome);
        Assert.Null((await GetAsync(first)).UniqueKey);
    }

    [Fact]
    public async Task Insert_UniqueKeyIsReleasedWhenJobIsCancelledBeforeRunning()
    {
        var first = await InsertOneAsync(NewJob(uniqueKey: "k"));
        Assert.True((await CancelJobAsync(first)).Cancelled);
        var again = NewJob(uniqueKey: "k");

        Assert.True(Assert.Single(await InsertAsync(again)).Inserted);
    }

    [Fact]
    public async Task Insert_UniqueUntilPruned_KeepsKeyAfterFinishUntilDeleted()
    {
        var first = await FinishedJobAsync(JobState.Succeeded, uniqueKey: "k", uniqueUntilPruned: true);

        var afterFinish = Assert.Single(await InsertAsync(NewJob(uniqueKey: "k")));
        Assert.True(await DeleteJobAsync(first));
        var afterDelete = Assert.Single(await InsertAsync(NewJob(uniqueKey: "k")));

        Assert.Equal(new JobInsertOutcome(first, false), afterFinish);
        Assert.True(afterDelete.Inserted);
    }

    [Fact]
    public async Task Insert_DeletingAWaitingJob_ReleasesItsUniqueKey()
    {
        var first = await InsertOneAsync(NewJob(uniqueKey: "k"));
        Assert.True(await DeleteJobAsync(first));

        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
    }

    [Fact]
    public async Task Insert_ExistingId_IsIdempotent_AndChangesNothing()
    {
        var existing = NewJob();
        await InsertAsync(existing);
        var fresh = NewJob(uniqueKey: "fresh");

        var outcomes = await InsertAsync(fresh, existing with { Queue = "other", Priority = Priority.Critical });

        Assert.Equal([new(fresh.Id, true), new(existing.Id, false)], outcomes);
        var stored = await GetAsync(existing.Id);
        Assert.Equal(("default", Priority.Normal), (stored.Queue, stored.Priority));
        Assert.Null(await QueueAsync("other"));
        Assert.False(Assert.Single(await InsertAsync(NewJob(uniqueKey: "fresh"))).Inserted);
    }

    [Fact]
    public async Task Insert_SameIdTwiceInOneBatch_InsertsItOnce()
    {
        var first = NewJob(uniqueKey: "first");
        var twin = NewJob(queue: "other") with { Id = first.Id };

        var outcomes = await InsertAsync(first, twin);

        Assert.Equal([new(first.Id, true), new(first.Id, false)], outcomes);
        Assert.Equal("default", (await GetAsync(first.Id)).Queue);
        Assert.Equal(["default"], (await QueuesAsync()).Select(q => q.Name));
    }

    [Fact]
    public async Task Insert_BatchWithoutKeys_SentAgainAfterALostReply_ReportsTheStoredJobsAndInsertsTheRest()
    {
        var sent = NewJob();
        await InsertAsync(sent);
        var fresh = NewJob();

        var outcomes = await InsertAsync(fresh, sent with { Queue = "other", Priority = Priority.Critical });

        Assert.Equal([new(fresh.Id, true), new(sent.Id, false)], outcomes);
        var stored = await GetAsync(sent.Id);
        Assert.Equal(("default", Priority.Normal), (stored.Queue, stored.Priority));
        Assert.Equal(JobState.Ready, (await GetAsync(fresh.Id)).State);
        Assert.Null(await QueueAsync("other"));
    }

    [Fact]
    public async Task Insert_SameIdTwiceInOneBatchWithoutKeys_InsertsItOnceAndTheOthers()
    {
        var first = NewJob();
        var other = NewJob();
        var twin = NewJob(queue: "other") with { Id = first.Id };

        var outcomes = await InsertAsync(first, other, twin);

        Assert.Equal([new(first.Id, true), new(other.Id, true), new(first.Id, false)], outcomes);
        Assert.Equal("default", (await GetAsync(first.Id)).Queue);
        Assert.Equal(JobState.Ready, (await GetAsync(other.Id)).State);
        Assert.Equal(["default"], (await QueuesAsync()).Select(q => q.Name));
    }

    [Fact]
    public async Task Insert_BatchWithAJobTheStoreCannotHold_InsertsNothing()
    {
        var good = NewJob(uniqueKey: "good");
        var bad = NewJob() with { TaskName = null! };

        await Assert.ThrowsAnyAsync<Exception>(async () => await Jobs.JobsInsertAsync(new JobsInsertParams([good, bad]), Ct));

        Assert.Null(await FindAsync(good.Id));
        Assert.Empty(await QueuesAsync());
        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "good"))).Inserted);
    }

    [Fact]
    public async Task Insert_SameUniqueKeyInAnotherQueue_IsAnotherJob()
    {
        var a = await InsertOneAsync(NewJob("a", uniqueKey: "k"));
        var b = NewJob("b", uniqueKey: "k");

        var outcome = Assert.Single(await InsertAsync(b));
        var again = Assert.Single(await InsertAsync(NewJob("b", uniqueKey: "k")));

        Assert.Equal(new JobInsertOutcome(b.Id, true), outcome);
        Assert.Equal(new JobInsertOutcome(b.Id, false), again);
        Assert.Equal("k", (await GetAsync(a)).UniqueKey);
        Assert.Equal("k", (await GetAsync(b.Id)).UniqueKey);
    }

    [Fact]
    public async Task Insert_ConcurrentEnqueuesWithOneUniqueKey_InsertExactlyOneJob()
    {
        const int callers = 16;
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            start.Wait(Ct);
            var result = await Jobs.JobsInsertAsync(new JobsInsertParams([NewJob(uniqueKey: "shared")]), Ct);
            return result.Outcomes[0];
        })).ToArray();

        start.Set();
        var outcomes = await Task.WhenAll(tasks);

        Assert.Single(outcomes, o => o.Inserted);
        Assert.Single(outcomes.Select(o => o.Id).Distinct());
        Assert.Equal(1, (await QueueAsync("default"))!.Length);
    }
}
