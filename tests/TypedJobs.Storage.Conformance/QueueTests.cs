namespace TypedJobs.Storage.Conformance;

/// <summary>Pausing, resuming and clearing queues.</summary>
public abstract class QueueTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Pause_StopsClaimsUntilResumed()
    {
        var id = await InsertOneAsync(NewJob());

        await Jobs.QueuesPauseAsync("default", Ct);
        var whilePaused = await ClaimAsync();
        await Jobs.QueuesResumeAsync("default", Ct);
        var afterResume = await ClaimAsync();

        Assert.Empty(whilePaused);
        Assert.Equal(id, Assert.Single(afterResume).Id);
    }

    [Fact]
    public async Task Pause_LeavesOtherQueuesClaimable()
    {
        await InsertOneAsync(NewJob("a"));
        var b = await InsertOneAsync(NewJob("b"));
        await Jobs.QueuesPauseAsync("a", Ct);

        var result = await Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w",
            Queues = [new QueueClaim("a", 5), new QueueClaim("b", 5)],
            Max = 10,
            LeaseDuration = Lease,
        }, Ct);

        Assert.Equal(b, Assert.Single(result.Jobs).Id);
    }

    [Fact]
    public async Task Pause_LetsRunningJobsComplete()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        await Jobs.QueuesPauseAsync("default", Ct);

        Assert.True(await CompleteAsync(job, CompletionKind.Succeeded));
    }

    [Fact]
    public async Task Pause_IsListedEvenWhenTheQueueIsEmpty_AndResumeUnlistsIt()
    {
        await Jobs.QueuesPauseAsync("idle", Ct);
        var paused = await QueueAsync("idle");
        await Jobs.QueuesResumeAsync("idle", Ct);

        Assert.NotNull(paused);
        Assert.True(paused.Paused);
        Assert.All(paused.Counts.Values, c => Assert.Equal(0, c));
        Assert.Null(await QueueAsync("idle"));
    }

    [Fact]
    public async Task Pause_Twice_AndResumeOfAnUnpausedQueue_AreHarmless()
    {
        await InsertOneAsync(NewJob());
        await Jobs.QueuesResumeAsync("default", Ct);
        await Jobs.QueuesPauseAsync("default", Ct);
        await Jobs.QueuesPauseAsync("default", Ct);

        Assert.True((await QueueAsync("default"))!.Paused);
        await Jobs.QueuesResumeAsync("default", Ct);
        Assert.False((await QueueAsync("default"))!.Paused);
        Assert.Single(await ClaimAsync());
    }

    [Fact]
    public async Task Clear_DeletesOnlyWaitingJobsOfThatQueue()
    {
        var succeeded = await FinishedJobAsync(JobState.Succeeded);
        var running = await InsertOneAsync(NewJob());
        await ClaimOneAsync();
        var ready = await InsertOneAsync(NewJob());
        var scheduled = await InsertOneAsync(NewJob(delay: TimeSpan.FromHours(1)));
        var other = await InsertOneAsync(NewJob("other"));

        var cleared = await Jobs.QueuesClearAsync("default", Ct);

        Assert.Equal(2, cleared);
        Assert.Null(await Jobs.JobsGetAsync(ready, Ct));
        Assert.Null(await Jobs.JobsGetAsync(scheduled, Ct));
        Assert.NotNull(await Jobs.JobsGetAsync(other, Ct));
        Assert.Equal(JobState.Running, (await GetAsync(running)).State);
        Assert.Equal(JobState.Succeeded, (await GetAsync(succeeded)).State);
        Assert.Equal(0, (await QueueAsync("default"))!.Length);
    }

    [Fact]
    public async Task Clear_ReleasesTheUniqueKeysOfClearedJobs()
    {
        await InsertOneAsync(NewJob(uniqueKey: "k"));

        await Jobs.QueuesClearAsync("default", Ct);

        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
    }
}
