namespace TypedJobs.Storage.Conformance;

/// <summary>Pruning finished jobs by state and age.</summary>
public abstract class PruneTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Prune_DeletesFinishedJobsOfTheGivenStatesOlderThanTheCutoff()
    {
        var oldSucceeded = await FinishedJobAsync(JobState.Succeeded);
        var oldDead = await FinishedJobAsync(JobState.Dead);
        var oldWaiting = await InsertOneAsync(NewJob(delay: TimeSpan.FromDays(1)));
        Clock.Advance(TimeSpan.FromHours(2));
        var cutoff = Now;
        Clock.Advance(TimeSpan.FromHours(2));
        var newSucceeded = await FinishedJobAsync(JobState.Succeeded);

        var pruned = await Jobs.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded], cutoff), Ct);

        Assert.Equal(1, pruned);
        Assert.Null(await Jobs.JobsGetAsync(oldSucceeded, Ct));
        Assert.NotNull(await Jobs.JobsGetAsync(oldDead, Ct));
        Assert.NotNull(await Jobs.JobsGetAsync(oldWaiting, Ct));
        Assert.NotNull(await Jobs.JobsGetAsync(newSucceeded, Ct));
    }

    [Fact]
    public async Task Prune_NeverDeletesUnfinishedJobs()
    {
        await InsertOneAsync(NewJob());
        await InsertOneAsync(NewJob(delay: TimeSpan.FromMinutes(1)));
        await InsertOneAsync(NewJob("r"));
        await ClaimOneAsync("r");
        Clock.Advance(TimeSpan.FromDays(30));

        var pruned = await Jobs.JobsPruneAsync(new JobsPruneParams([JobState.Scheduled, JobState.Ready, JobState.Running], Now), Ct);

        Assert.Equal(0, pruned);
        Assert.Equal(3, (await Jobs.QueuesListAsync(Ct)).Sum(q => q.Counts.Values.Sum()));
    }

    [Fact]
    public async Task Prune_DeletesAtMostMaxPerCall()
    {
        for (var i = 0; i < 5; i++)
        {
            await FinishedJobAsync(JobState.Succeeded);
        }

        Clock.Advance(TimeSpan.FromMinutes(1));

        var first = await Jobs.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded], Now, Max: 3), Ct);
        var second = await Jobs.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded], Now, Max: 3), Ct);

        Assert.Equal(3, first);
        Assert.Equal(2, second);
        Assert.Null(await QueueAsync("default"));
    }

    [Fact]
    public async Task Prune_ReleasesAKeyKeptUntilPruned()
    {
        await FinishedJobAsync(JobState.Succeeded, uniqueKey: "k", uniqueUntilPruned: true);
        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.False(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
        await Jobs.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded], Now), Ct);

        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
    }
}
