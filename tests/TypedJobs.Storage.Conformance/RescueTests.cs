namespace TypedJobs.Storage.Conformance;

/// <summary>Rescue: expired leases go back to Ready (or Dead when out of attempts), checked atomically.</summary>
public abstract class RescueTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private Task<JobsRescueResult> RescueAsync(int max = 100) => Jobs.JobsRescueAsync(new JobsRescueParams(max), Ct).AsTask();

    [Fact]
    public async Task Rescue_ExpiredLease_ReturnsJobToReadyKeepingTheAttempt()
    {
        var id = await InsertOneAsync(NewJob(task: "t", queue: "q", maxRetries: 3));
        await ClaimOneAsync("q", TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));

        var rescued = await RescueAsync();
        var job = await GetAsync(id);

        Assert.Equal(new RescuedJob(new JobRef(id, "q"), "t", 1, JobState.Ready, "worker-1"), Assert.Single(rescued.Jobs));
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(1, job.Attempt);
        Assert.Null(job.LeaseToken);
        Assert.Null(job.LeaseExpiresAt);
        Assert.Null(job.FinishedAt);
    }

    [Fact]
    public async Task Rescue_LiveLease_LeavesTheJobRunning()
    {
        var id = await InsertOneAsync(NewJob());
        var claimed = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(9));

        var rescued = await RescueAsync();

        Assert.Empty(rescued.Jobs);
        Assert.Equal(claimed.LeaseToken, (await GetAsync(id)).LeaseToken);
    }

    [Fact]
    public async Task Rescue_ExtendedLease_IsNotRescuedAtTheOldExpiry()
    {
        var id = await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(5));
        await Jobs.LeasesExtendAsync(new LeasesExtendParams("worker-1", [new JobLease(job.Ref, job.LeaseToken!.Value)], TimeSpan.FromSeconds(10)), Ct);
        Clock.Advance(TimeSpan.FromSeconds(6));

        Assert.Empty((await RescueAsync()).Jobs);
        Clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Single((await RescueAsync()).Jobs);
    }

    [Fact]
    public async Task Rescue_NoAttemptsLeft_MovesTheJobToDead()
    {
        var id = await InsertOneAsync(NewJob(maxRetries: 0, uniqueKey: "k"));
        await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));

        var rescued = Assert.Single((await RescueAsync()).Jobs);
        var job = await GetAsync(id);

        Assert.Equal(JobState.Dead, rescued.NewState);
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(Now, job.FinishedAt);
        Assert.NotNull(job.LastError);
        Assert.Null(job.LeaseToken);
        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
    }

    [Fact]
    public async Task Rescue_WithAttemptsLeft_JobCanBeClaimedAgainWithTheNextAttempt()
    {
        var id = await InsertOneAsync(NewJob(maxRetries: 1));
        await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));
        await RescueAsync();

        var second = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));
        var rescuedAgain = Assert.Single((await RescueAsync()).Jobs);

        Assert.Equal(id, second.Id);
        Assert.Equal(2, second.Attempt);
        Assert.Equal(JobState.Dead, rescuedAgain.NewState);
    }

    [Fact]
    public async Task Rescue_TakesAtMostMaxPerCall()
    {
        await InsertManyAsync(3);
        await ClaimAsync(3, lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));

        var first = await RescueAsync(2);
        var second = await RescueAsync(2);
        var third = await RescueAsync(2);

        Assert.Equal(2, first.Jobs.Count);
        Assert.Single(second.Jobs);
        Assert.Empty(third.Jobs);
    }

    [Fact]
    public async Task Rescue_FinishedJobsAreNeverRescued()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Assert.True(await CompleteAsync(job, JobState.Succeeded));
        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Empty((await RescueAsync()).Jobs);
        Assert.Equal(JobState.Succeeded, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Rescue_ConcurrentRescuers_RescueEachJobOnce()
    {
        var ids = await InsertManyAsync(40);
        await ClaimAsync(40, lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(10));
        using var start = new ManualResetEventSlim();

        var rescuers = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            start.Wait(Ct);
            var mine = new List<JobId>();
            for (var i = 0; i < 10; i++)
            {
                mine.AddRange((await RescueAsync(5)).Jobs.Select(j => j.Job.Id));
            }

            return mine;
        })).ToArray();
        start.Set();
        var rescued = (await Task.WhenAll(rescuers)).SelectMany(x => x).ToList();

        Assert.Equal(ids.OrderBy(i => i), rescued.OrderBy(i => i));
    }
}
