namespace TypedJobs.Storage.Conformance;

/// <summary>Pausing, resuming and clearing queues.</summary>
public abstract class QueueTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Pause_StopsClaimsUntilResumed()
    {
        var id = await InsertOneAsync(NewJob());

        await Admin.QueuesPauseAsync(new QueuesPauseParams("default"), Ct);
        var whilePaused = await ClaimAsync();
        await Admin.QueuesResumeAsync(new QueuesResumeParams("default"), Ct);
        var afterResume = await ClaimAsync();

        Assert.Empty(whilePaused);
        Assert.Equal(id, Assert.Single(afterResume).Id);
    }

    [Fact]
    public async Task Pause_LeavesOtherQueuesClaimable()
    {
        await InsertOneAsync(NewJob("a"));
        var b = await InsertOneAsync(NewJob("b"));
        await Admin.QueuesPauseAsync(new QueuesPauseParams("a"), Ct);

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
        await Admin.QueuesPauseAsync(new QueuesPauseParams("default"), Ct);

        Assert.True(await CompleteAsync(job, JobState.Succeeded));
    }

    [Fact]
    public async Task Pause_IsListedEvenWhenTheQueueIsEmpty_AndResumeUnlistsIt()
    {
        await Admin.QueuesPauseAsync(new QueuesPauseParams("idle"), Ct);
        var paused = await QueueAsync("idle");
        await Admin.QueuesResumeAsync(new QueuesResumeParams("idle"), Ct);

        Assert.NotNull(paused);
        Assert.True(paused.Paused);
        Assert.All(paused.Counts.Values, c => Assert.Equal(0, c));
        Assert.Null(await QueueAsync("idle"));
    }

    [Fact]
    public async Task Pause_Twice_AndResumeOfAnUnpausedQueue_AreHarmless()
    {
        await InsertOneAsync(NewJob());
        await Admin.QueuesResumeAsync(new QueuesResumeParams("default"), Ct);
        await Admin.QueuesPauseAsync(new QueuesPauseParams("default"), Ct);
        await Admin.QueuesPauseAsync(new QueuesPauseParams("default"), Ct);

        Assert.True((await QueueAsync("default"))!.Paused);
        await Admin.QueuesResumeAsync(new QueuesResumeParams("default"), Ct);
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

        var cleared = (await Admin.QueuesClearAsync(new QueuesClearParams("default"), Ct)).Deleted;

        Assert.Equal(2, cleared);
        Assert.Null(await FindAsync(ready));
        Assert.Null(await FindAsync(scheduled));
        Assert.NotNull(await FindAsync(other));
        Assert.Equal(JobState.Running, (await GetAsync(running)).State);
        Assert.Equal(JobState.Succeeded, (await GetAsync(succeeded)).State);
        Assert.Equal(0, (await QueueAsync("default"))!.Length);
    }

    [Fact]
    public async Task Clear_ReleasesTheUniqueKeysOfClearedJobs()
    {
        await InsertOneAsync(NewJob(uniqueKey: "k"));

        await Admin.QueuesClearAsync(new QueuesClearParams("default"), Ct);

        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
    }
}
