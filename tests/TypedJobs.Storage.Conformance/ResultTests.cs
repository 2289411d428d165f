namespace TypedJobs.Storage.Conformance;

/// <summary>The results role: values with a time to live.</summary>
public abstract class ResultTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Set_ThenGet_ReturnsTheValueAndItsExpiry()
    {
        var id = JobId.New();

        await Results.ResultsSetAsync([new ResultWrite(id, [42, 0, 7], TimeSpan.FromMinutes(10))], Ct);
        var result = await Results.ResultsGetAsync(id, Ct);

        Assert.NotNull(result);
        Assert.Equal(new byte[] { 42, 0, 7 }, result.Value);
        Assert.Equal(Now.AddMinutes(10), result.ExpiresAt);
    }

    [Fact]
    public async Task Get_MissingResult_ReturnsNull()
    {
        Assert.Null(await Results.ResultsGetAsync(JobId.New(), Ct));
    }

    [Fact]
    public async Task Get_AfterTheTtl_ReturnsNull()
    {
        var id = JobId.New();
        await Results.ResultsSetAsync([new ResultWrite(id, [1], TimeSpan.FromMinutes(10))], Ct);
        Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await Results.ResultsGetAsync(id, Ct));

        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Null(await Results.ResultsGetAsync(id, Ct));
    }

    [Fact]
    public async Task Set_OverwritesAnEarlierResultOfTheSameJob()
    {
        var id = JobId.New();
        await Results.ResultsSetAsync([new ResultWrite(id, [1], TimeSpan.FromMinutes(1))], Ct);

        await Results.ResultsSetAsync([new ResultWrite(id, [2, 2], TimeSpan.FromHours(1))], Ct);
        var result = await Results.ResultsGetAsync(id, Ct);

        Assert.Equal(new byte[] { 2, 2 }, result!.Value);
        Assert.Equal(Now.AddHours(1), result.ExpiresAt);
    }

    [Fact]
    public async Task Set_Batch_StoresEveryResult()
    {
        var writes = Enumerable.Range(0, 10).Select(i => new ResultWrite(JobId.New(), [(byte)i], TimeSpan.FromMinutes(1))).ToArray();

        await Results.ResultsSetAsync(writes, Ct);

        foreach (var w in writes)
        {
            Assert.Equal(w.Value, (await Results.ResultsGetAsync(w.JobId, Ct))!.Value);
        }
    }

    [Fact]
    public async Task Prune_DeletesOnlyExpiredResults()
    {
        var shortLived = JobId.New();
        var longLived = JobId.New();
        await Results.ResultsSetAsync(
            [new ResultWrite(shortLived, [1], TimeSpan.FromMinutes(1)), new ResultWrite(longLived, [2], TimeSpan.FromHours(1))], Ct);
        Clock.Advance(TimeSpan.FromMinutes(1));

        var pruned = await Results.ResultsPruneAsync(Ct);

        Assert.Equal(1, pruned);
        Assert.Equal(0, await Results.ResultsPruneAsync(Ct));
        Assert.NotNull(await Results.ResultsGetAsync(longLived, Ct));
    }
}
