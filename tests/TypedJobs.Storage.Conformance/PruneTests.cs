namespace TypedJobs.Storage.Conformance;

/// <summary>Pruning finished jobs by state and age.</summary>
public abstract class PruneTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Prune_DeletesFinishedJobsOfTheGivenStatesOlderThanTheAge()
    {
        var oldSucceeded = await FinishedJobAsync(JobState.Succeeded);
        var oldDead = await FinishedJobAsync(JobState.Dead);
        var oldWaiting = await InsertOneAsync(NewJob(delay: TimeSpan.FromDays(1)));
        Clock.Advance(TimeSpan.FromHours(4));
        var newSucceeded = await FinishedJobAsync(JobState.Succeeded);

        // Older than two hours by the store's clock: the old ones finished four hours ago.
        var pruned = await PruneAsync([JobState.Succeeded], TimeSpan.FromHours(2));

        Assert.Equal(1, pruned);
        Assert.Null(await FindAsync(oldSucceeded));
        Assert.NotNull(await FindAsync(oldDead));
        Assert.NotNull(await FindAsync(oldWaiting));
        Assert.NotNull(await FindAsync(newSucceeded));
    }

    [Fact]
    public async Task Prune_NeverDeletesUnfinishedJobs()
    {
        await InsertOneAsync(NewJob());
        await InsertOneAsync(NewJob(delay: TimeSpan.FromMinutes(1)));
        await InsertOneAsync(NewJob("r"));
        await ClaimOneAsync("r");
        Clock.Advance(TimeSpan.FromDays(30));

        var pruned = await PruneAsync([JobState.Scheduled, JobState.Ready, JobState.Running], TimeSpan.Zero);

        Assert.Equal(0, pruned);
        Assert.Equal(3, (await QueuesAsync()).Sum(q => q.Counts.Values.Sum()));
    }

    [Fact]
    public async Task Prune_DeletesAtMostMaxPerCall()
    {
        for (var i = 0; i < 5; i++)
        {
            await FinishedJobAsync(JobState.Succeeded);
        }

        Clock.Advance(TimeSpan.FromMinutes(1));

        var first = await PruneAsync([JobState.Succeeded], TimeSpan.Zero, max: 3);
        var second = await PruneAsync([JobState.Succeeded], TimeSpan.Zero, max: 3);

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
        await PruneAsync([JobState.Succeeded], TimeSpan.Zero);

        Assert.True(Assert.Single(await InsertAsync(NewJob(uniqueKey: "k"))).Inserted);
    }
}
