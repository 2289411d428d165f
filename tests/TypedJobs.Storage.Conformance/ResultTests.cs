namespace TypedJobs.Storage.Conformance;

/// <summary>The results role: values with a time to live, keyed by job and the lease token of the attempt that produced them.</summary>
public abstract class ResultTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private async Task SetAsync(params ResultWrite[] writes) => await Results.ResultsSetAsync(new ResultsSetParams(writes), Ct);

    private async Task<StoredResult?> GetResultAsync(JobId id, Guid attempt) =>
        (await Results.ResultsGetAsync(new ResultsGetParams(id, attempt), Ct)).Result;

    [Fact]
    public async Task Set_ThenGet_ReturnsTheValueAndItsExpiry()
    {
        var (id, attempt) = (JobId.New(), Guid.NewGuid());

        await SetAsync(new ResultWrite(id, attempt, [42, 0, 7], TimeSpan.FromMinutes(10)));
        var result = await GetResultAsync(id, attempt);

        Assert.NotNull(result);
        Assert.Equal(new byte[] { 42, 0, 7 }, result.Value);
        Assert.Equal(Now.AddMinutes(10), result.ExpiresAt);
    }

    [Fact]
    public async Task Get_MissingResult_ReturnsNull()
    {
        Assert.Null(await GetResultAsync(JobId.New(), Guid.NewGuid()));
    }

    [Fact]
    public async Task Get_AfterTheTtl_ReturnsNull()
    {
        var (id, attempt) = (JobId.New(), Guid.NewGuid());
        await SetAsync(new ResultWrite(id, attempt, [1], TimeSpan.FromMinutes(10)));
        Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await GetResultAsync(id, attempt));

        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Null(await GetResultAsync(id, attempt));
    }

    [Fact]
    public async Task Set_SameAttemptAgain_Overwrites()
    {
        var (id, attempt) = (JobId.New(), Guid.NewGuid());
        await SetAsync(new ResultWrite(id, attempt, [1], TimeSpan.FromMinutes(1)));

        await SetAsync(new ResultWrite(id, attempt, [2, 2], TimeSpan.FromHours(1)));
        var result = await GetResultAsync(id, attempt);

        Assert.Equal(new byte[] { 2, 2 }, result!.Value);
        Assert.Equal(Now.AddHours(1), result.ExpiresAt);
    }

    [Fact]
    public async Task Set_ByAStaleAttemptAfterTheWinner_NeverReplacesTheWinnersResult()
    {
        var id = JobId.New();
        var (stale, winner) = (Guid.NewGuid(), Guid.NewGuid());

        await SetAsync(new ResultWrite(id, winner, [2], TimeSpan.FromMinutes(5)));
        await SetAsync(new ResultWrite(id, stale, [1], TimeSpan.FromMinutes(5)));

        Assert.Equal(new byte[] { 2 }, (await GetResultAsync(id, winner))!.Value);
        Assert.Equal(new byte[] { 1 }, (await GetResultAsync(id, stale))!.Value);
        Assert.Null(await GetResultAsync(id, Guid.NewGuid()));
    }

    [Fact]
    public async Task Set_Batch_StoresEveryResult()
    {
        var writes = Enumerable.Range(0, 10).Select(i => new ResultWrite(JobId.New(), Guid.NewGuid(), [(byte)i], TimeSpan.FromMinutes(1))).ToArray();

        await SetAsync(writes);

        foreach (var w in writes)
        {
            Assert.Equal(w.Value, (await GetResultAsync(w.JobId, w.LeaseToken))!.Value);
        }
    }

    [Fact]
    public async Task Delete_RemovesEveryAttemptOfTheJobsGiven()
    {
        var (id, other) = (JobId.New(), JobId.New());
        var attempts = new[] { Guid.NewGuid(), Guid.NewGuid() };
        await SetAsync(new ResultWrite(id, attempts[0], [1], TimeSpan.FromHours(1)), new ResultWrite(id, attempts[1], [2], TimeSpan.FromHours(1)),
            new ResultWrite(other, attempts[0], [3], TimeSpan.FromHours(1)));

        var deleted = await Results.ResultsDeleteAsync(new ResultsDeleteParams([id]), Ct);

        Assert.Equal(2, deleted.Deleted);
        Assert.Null(await GetResultAsync(id, attempts[0]));
        Assert.Null(await GetResultAsync(id, attempts[1]));
        Assert.NotNull(await GetResultAsync(other, attempts[0]));
    }

    [Fact]
    public async Task Prune_DeletesOnlyExpiredResults_AtMostMaxPerCall()
    {
        var expired = Enumerable.Range(0, 3).Select(_ => new ResultWrite(JobId.New(), Guid.NewGuid(), [1], TimeSpan.FromMinutes(1))).ToArray();
        var live = new ResultWrite(JobId.New(), Guid.NewGuid(), [2], TimeSpan.FromHours(1));
        await SetAsync([.. expired, live]);
        Clock.Advance(TimeSpan.FromMinutes(1));

        var first = await Results.ResultsPruneAsync(new ResultsPruneParams(2), Ct);
        var second = await Results.ResultsPruneAsync(new ResultsPruneParams(2), Ct);
        var third = await Results.ResultsPruneAsync(new ResultsPruneParams(2), Ct);

        Assert.Equal((2, 1, 0), (first.Deleted, second.Deleted, third.Deleted));
        Assert.NotNull(await GetResultAsync(live.JobId, live.LeaseToken));
    }
}
