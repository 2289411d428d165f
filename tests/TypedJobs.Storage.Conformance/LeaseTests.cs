namespace TypedJobs.Storage.Conformance;

/// <summary>Leases and fencing: every write about a running job needs its current lease token.</summary>
public abstract class LeaseTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Complete_WithTheCurrentToken_IsApplied()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();

        Assert.True(await CompleteAsync(job, CompletionKind.Succeeded));
        Assert.Equal(JobState.Succeeded, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Complete_WithAnotherToken_IsRefusedAndChangesNothing()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();

        var applied = await CompleteAsync(job, CompletionKind.Succeeded, token: Guid.NewGuid());
        var stored = await GetAsync(job.Id);

        Assert.False(applied);
        Assert.Equal(JobState.Running, stored.State);
        Assert.Equal(job.LeaseToken, stored.LeaseToken);
    }

    [Fact]
    public async Task Complete_SecondTimeWithTheSameToken_IsRefused()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        Assert.True(await CompleteAsync(job, CompletionKind.Retry, TimeSpan.Zero, "first"));

        var second = await CompleteAsync(job, CompletionKind.Succeeded);

        Assert.False(second);
        Assert.Equal(JobState.Ready, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Complete_Batch_FencesEachCompletionOnItsOwn()
    {
        await InsertManyAsync(2);
        var jobs = await ClaimAsync(2);

        var result = await Jobs.JobsCompleteAsync(new JobsCompleteParams(
        [
            new JobCompletion { Id = jobs[0].Id, LeaseToken = Guid.NewGuid(), Kind = CompletionKind.Succeeded },
            new JobCompletion { Id = jobs[1].Id, LeaseToken = jobs[1].LeaseToken!.Value, Kind = CompletionKind.Succeeded },
        ]), Ct);

        Assert.Equal([false, true], result.Applied);
        Assert.Equal(JobState.Running, (await GetAsync(jobs[0].Id)).State);
        Assert.Equal(JobState.Succeeded, (await GetAsync(jobs[1].Id)).State);
    }

    [Fact]
    public async Task StaleWorker_CompletionIsRefusedAfterRescueAndReclaim()
    {
        await InsertOneAsync(NewJob());
        var stale = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10), worker: "w1");
        Clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Single((await Jobs.JobsRescueAsync(new JobsRescueParams(10), Ct)).Jobs);
        var current = await ClaimOneAsync(worker: "w2");

        var staleApplied = await CompleteAsync(stale, CompletionKind.Succeeded);
        var afterStale = await GetAsync(current.Id);
        var currentApplied = await CompleteAsync(current, CompletionKind.Succeeded);

        Assert.Equal(stale.Id, current.Id);
        Assert.False(staleApplied);
        Assert.Equal(JobState.Running, afterStale.State);
        Assert.Equal("w2", afterStale.WorkerId);
        Assert.Equal(current.LeaseToken, afterStale.LeaseToken);
        Assert.True(currentApplied);
        Assert.Equal(2, (await GetAsync(current.Id)).Attempt);
    }

    [Fact]
    public async Task StaleWorker_ExtendReportsLostAndLeavesTheNewLeaseAlone()
    {
        await InsertOneAsync(NewJob());
        var stale = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10), worker: "w1");
        Clock.Advance(TimeSpan.FromSeconds(11));
        await Jobs.JobsRescueAsync(new JobsRescueParams(10), Ct);
        var current = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10), worker: "w2");

        var result = await Jobs.LeasesExtendAsync(
            new LeasesExtendParams("w1", [new JobLease(stale.Id, stale.LeaseToken!.Value)], TimeSpan.FromMinutes(5)), Ct);

        Assert.Equal([stale.Id], result.Lost);
        Assert.Equal(current.LeaseExpiresAt, (await GetAsync(current.Id)).LeaseExpiresAt);
    }

    [Fact]
    public async Task Extend_MovesExpiryFromTheStoreClock()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(8));

        var result = await Jobs.LeasesExtendAsync(
            new LeasesExtendParams("worker-1", [new JobLease(job.Id, job.LeaseToken!.Value)], TimeSpan.FromSeconds(10)), Ct);
        Clock.Advance(TimeSpan.FromSeconds(8));
        var rescued = await Jobs.JobsRescueAsync(new JobsRescueParams(10), Ct);

        Assert.Empty(result.Lost);
        Assert.Equal(FakeClock.Start.AddSeconds(18), (await GetAsync(job.Id)).LeaseExpiresAt);
        Assert.Empty(rescued.Jobs);
        Assert.Equal(JobState.Running, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Extend_ReportsOnlyTheLeasesThatWereLost()
    {
        await InsertManyAsync(3);
        var jobs = await ClaimAsync(3);
        await Jobs.JobsCancelAsync(jobs[1].Id, Ct);
        await Jobs.JobsDeleteAsync(jobs[2].Id, Ct);

        var result = await Jobs.LeasesExtendAsync(new LeasesExtendParams("worker-1",
            jobs.Select(j => new JobLease(j.Id, j.LeaseToken!.Value)).ToArray(), Lease), Ct);

        Assert.Equal(new[] { jobs[1].Id, jobs[2].Id }.OrderBy(i => i), result.Lost.OrderBy(i => i));
    }

    [Fact]
    public async Task Extend_FinishedJob_IsLost()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        Assert.True(await CompleteAsync(job, CompletionKind.Succeeded));

        var result = await Jobs.LeasesExtendAsync(
            new LeasesExtendParams("worker-1", [new JobLease(job.Id, job.LeaseToken!.Value)], Lease), Ct);

        Assert.Equal([job.Id], result.Lost);
    }

    [Fact]
    public async Task Complete_AfterTheJobWasCancelled_IsRefused()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        Assert.True((await Jobs.JobsCancelAsync(job.Id, Ct)).Cancelled);

        Assert.False(await CompleteAsync(job, CompletionKind.Succeeded));
        Assert.Equal(JobState.Cancelled, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Complete_AfterTheJobWasDeleted_IsRefused()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        Assert.True(await Jobs.JobsDeleteAsync(job.Id, Ct));

        Assert.False(await CompleteAsync(job, CompletionKind.Succeeded));
        Assert.Null(await Jobs.JobsGetAsync(job.Id, Ct));
    }
}
