namespace TypedJobs.Storage.Conformance;

/// <summary>Named locks with a time to live, re-entrant for their owner.</summary>
public abstract class LockTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private async Task<bool> AcquireAsync(string owner, string name = "lock") =>
        (await Locks.LocksAcquireAsync(new LocksAcquireParams(name, owner, Ttl), Ct)).Acquired;

    [Fact]
    public async Task Lock_HeldByAnotherOwner_IsRefused()
    {
        Assert.True(await AcquireAsync("a"));

        Assert.False(await AcquireAsync("b"));
    }

    [Fact]
    public async Task Lock_SameOwner_ReentersAndExtendsTheTtl()
    {
        Assert.True(await AcquireAsync("a"));
        Clock.Advance(TimeSpan.FromSeconds(8));

        Assert.True(await AcquireAsync("a"));
        Clock.Advance(TimeSpan.FromSeconds(8));

        Assert.False(await AcquireAsync("b"));
    }

    [Fact]
    public async Task Lock_AfterItsTtl_CanBeTakenByAnotherOwner()
    {
        Assert.True(await AcquireAsync("a"));
        Clock.Advance(Ttl);

        Assert.True(await AcquireAsync("b"));
        Assert.False(await AcquireAsync("a"));
    }

    [Fact]
    public async Task Lock_ReleasedByItsOwner_IsFree()
    {
        Assert.True(await AcquireAsync("a"));

        Assert.True((await Locks.LocksReleaseAsync(new LocksReleaseParams("lock", "a"), Ct)).Released);
        Assert.True(await AcquireAsync("b"));
    }

    [Fact]
    public async Task Lock_ReleaseByAnotherOwner_IsRefusedAndKeepsTheLock()
    {
        Assert.True(await AcquireAsync("a"));

        Assert.False((await Locks.LocksReleaseAsync(new LocksReleaseParams("lock", "b"), Ct)).Released);
        Assert.False(await AcquireAsync("b"));
    }

    [Fact]
    public async Task Lock_ReleaseAfterExpiryOrOfAMissingLock_ReportsNotHeld()
    {
        Assert.True(await AcquireAsync("a"));
        Clock.Advance(Ttl + TimeSpan.FromSeconds(1));

        Assert.False((await Locks.LocksReleaseAsync(new LocksReleaseParams("lock", "a"), Ct)).Released);
        Assert.False((await Locks.LocksReleaseAsync(new LocksReleaseParams("never-taken", "a"), Ct)).Released);
    }

    [Fact]
    public async Task Lock_NamesAreIndependent()
    {
        Assert.True(await AcquireAsync("a", "one"));

        Assert.True(await AcquireAsync("b", "two"));
    }

    [Fact]
    public async Task Lock_ConcurrentAcquirers_ExactlyOneWins()
    {
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            start.Wait(Ct);
            return await AcquireAsync($"owner-{i}");
        })).ToArray();

        start.Set();
        var results = await Task.WhenAll(tasks);

        Assert.Single(results, r => r);
    }
}
