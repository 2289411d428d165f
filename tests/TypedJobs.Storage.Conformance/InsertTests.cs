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
        Assert.Empty(await Jobs.QueuesListAsync(Ct));
    }

    [Fact]
    public async Task Insert_UniqueKeyTaken_ReturnsExistingIdAndInsertsNothing()
    {
        var first = await InsertOneAsync(NewJob(uniqueKey: "k"));
        var second = NewJob(uniqueKey: "k");

        var outcome = Assert.Single(await InsertAsync(second));

        Assert.Equal(new JobInsertOutcome(first, false), outcome);
        Assert.Null(await Jobs.JobsGetAsync(second.Id, Ct));
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
        Assert.Null(await Jobs.JobsGetAsync(c.Id, Ct));
    }

    [Fact]
    public async Task Insert_UniqueKeyHeldWhileJobIsRunningOrWaitingForRetry()
    {
        var id = await InsertOneAsync(NewJob(uniqueKey: "k"));
        var running = await ClaimOneAsync();

        var whileRunning = Assert.Single(await InsertAsync(NewJob(uniqueKey: "k")));
        Assert.True(await CompleteAsync(running, CompletionKind.Retry, TimeSpan.FromMinutes(1), "boom"));
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
        Assert.True((await Jobs.JobsCancelAsync(first, Ct)).Cancelled);
        var again = NewJob(uniqueKey: "k");

        Assert.True(Assert.Single(await InsertAsync(again)).Inserted);
    }

    [Fact]
    public async Task Insert_UniqueUntilPruned_KeepsKeyAfterFinishUntilDeleted()
    {
        var first = await FinishedJobAsync(JobState.Succeeded, uniqueKey: "k", uniqueUntilPruned: true);

        var afterFinish = Assert.Single(await InsertAsync(NewJob(uniqueKey: "k")));
        Assert.True(await Jobs.JobsDeleteAsync(first, Ct));
        var afterDelete = Assert.Single(await InsertAsync(NewJob(uniqueKey: "k")));

        Assert.Equal(new JobInsertOutcome(first, false), afterFinish);
        Assert.True(afterDelete.Inserted);
    }

    [Fact]
    public async Task Insert_DeletingAWaitingJob_ReleasesItsUniqueKey()
    {
        var first = await InsertOneAsync(NewJob(uniqueKey: "k"));
        Assert.True(await Jobs.JobsDeleteAsync(first, Ct));

        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
    }

    [Fact]
    public async Task Insert_DuplicateId_FailsTheWholeBatch()
    {
        var existing = NewJob();
        await InsertAsync(existing);
        var fresh = NewJob(uniqueKey: "fresh");

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Jobs.JobsInsertAsync(new JobsInsertParams([fresh, existing with { Queue = "other" }]), Ct));

        Assert.Null(await Jobs.JobsGetAsync(fresh.Id, Ct));
        Assert.Equal("default", (await GetAsync(existing.Id)).Queue);
        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "fresh"))).Inserted);
    }

    [Fact]
    public async Task Insert_SameIdTwiceInOneBatch_FailsTheWholeBatch()
    {
        var first = NewJob(uniqueKey: "first");
        var twin = NewJob(queue: "other") with { Id = first.Id };

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Jobs.JobsInsertAsync(new JobsInsertParams([first, twin]), Ct));

        Assert.Null(await Jobs.JobsGetAsync(first.Id, Ct));
        Assert.Empty(await Jobs.QueuesListAsync(Ct));
        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "first"))).Inserted);
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
