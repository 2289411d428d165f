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

        Assert.True(await CompleteAsync(job, JobState.Succeeded));
        Assert.Equal(JobState.Succeeded, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Complete_WithAnotherToken_IsRefusedAndChangesNothing()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();

        var applied = await CompleteAsync(job, JobState.Succeeded, token: Guid.NewGuid());
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
        Assert.True(await CompleteAsync(job, JobState.Ready, TimeSpan.Zero, "first", failed: true));

        var second = await CompleteAsync(job, JobState.Succeeded);

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
            new JobCompletion { Job = jobs[0].Ref, LeaseToken = Guid.NewGuid(), TargetState = JobState.Succeeded },
            new JobCompletion { Job = jobs[1].Ref, LeaseToken = jobs[1].LeaseToken!.Value, TargetState = JobState.Succeeded },
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

        var staleApplied = await CompleteAsync(stale, JobState.Succeeded);
        var afterStale = await GetAsync(current.Id);
        var currentApplied = await CompleteAsync(current, JobState.Succeeded);

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
            new LeasesExtendParams("w1", [new JobLease(stale.Ref, stale.LeaseToken!.Value)], TimeSpan.FromMinutes(5)), Ct);

        Assert.Equal([new JobLease(stale.Ref, stale.LeaseToken!.Value)], result.Lost);
        Assert.Equal(current.LeaseExpiresAt, (await GetAsync(current.Id)).LeaseExpiresAt);
    }

    [Fact]
    public async Task Extend_MovesExpiryFromTheStoreClock()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync(lease: TimeSpan.FromSeconds(10));
        Clock.Advance(TimeSpan.FromSeconds(8));

        var result = await Jobs.LeasesExtendAsync(
            new LeasesExtendParams("worker-1", [new JobLease(job.Ref, job.LeaseToken!.Value)], TimeSpan.FromSeconds(10)), Ct);
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
        await CancelJobAsync(jobs[1].Id);
        await DeleteJobAsync(jobs[2].Id);

        var result = await Jobs.LeasesExtendAsync(new LeasesExtendParams("worker-1",
            jobs.Select(j => new JobLease(j.Ref, j.LeaseToken!.Value)).ToArray(), Lease), Ct);

        Assert.Equal(new[] { jobs[1].Id, jobs[2].Id }.OrderBy(i => i), result.Lost.Select(l => l.Job.Id).OrderBy(i => i));
    }

    [Fact]
    public async Task Extend_FinishedJob_IsLost()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        Assert.True(await CompleteAsync(job, JobState.Succeeded));

        var result = await Jobs.LeasesExtendAsync(
            new LeasesExtendParams("worker-1", [new JobLease(job.Ref, job.LeaseToken!.Value)], Lease), Ct);

        Assert.Equal([job.Id], result.Lost.Select(l => l.Job.Id));
    }

    [Fact]
    public async Task Complete_AfterTheJobWasCancelled_IsRefused()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        Assert.True((await CancelJobAsync(job.Id)).Cancelled);

        Assert.False(await CompleteAsync(job, JobState.Succeeded));
        Assert.Equal(JobState.Cancelled, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Complete_AfterTheJobWasDeleted_IsRefused()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        Assert.True(await DeleteJobAsync(job.Id));

        Assert.False(await CompleteAsync(job, JobState.Succeeded));
        Assert.Null(await FindAsync(job.Id));
    }

    [Fact]
    public async Task Progress_WithTheCurrentToken_IsRecorded_AndAStaleOneIsRefused()
    {
        await InsertOneAsync(NewJob());
        var job = await ClaimOneAsync();
        var lease = new JobLease(job.Ref, job.LeaseToken!.Value);

        var result = await Jobs.JobsProgressAsync(new JobsProgressParams(
            [new JobProgress(lease, 0.4, "page 4 of 10"), new JobProgress(lease with { LeaseToken = Guid.NewGuid() }, 0.9, "stale")]), Ct);
        var stored = await GetAsync(job.Id);

        Assert.Equal([true, false], result.Applied);
        Assert.Equal((0.4, "page 4 of 10"), (stored.Progress, stored.ProgressMessage));
    }

    [Fact]
    public async Task Progress_GivenInDescendingIdOrder_ReportsWhichAppliedInTheOrderGiven()
    {
        await InsertManyAsync(3);
        var jobs = (await ClaimAsync(3)).OrderByDescending(j => j.Id.Value).ToArray();

        var result = await Jobs.JobsProgressAsync(new JobsProgressParams(
        [.. jobs.Select((j, i) => new JobProgress(new JobLease(j.Ref, i == 0 ? j.LeaseToken!.Value : Guid.NewGuid()), 0.1 * (i + 1), "step " + i))]), Ct);

        Assert.Equal([true, false, false], result.Applied);
        var stored = new List<(double?, string?)>();
        foreach (var job in jobs)
        {
            var record = await GetAsync(job.Id);
            stored.Add((record.Progress, record.ProgressMessage));
        }

        Assert.Equal([(0.1, "step 0"), (null, null), (null, null)], stored);
    }

    [Fact]
    public async Task Progress_OfAnEarlierAttempt_IsClearedByTheNextClaim()
    {
        await InsertOneAsync(NewJob());
        var first = await ClaimOneAsync();
        await Jobs.JobsProgressAsync(new JobsProgressParams([new JobProgress(new JobLease(first.Ref, first.LeaseToken!.Value), 0.5, "half")]), Ct);
        Assert.True(await CompleteAsync(first, JobState.Ready, TimeSpan.Zero, "boom", failed: true));

        var second = await ClaimOneAsync();

        Assert.Null(second.Progress);
        Assert.Null((await GetAsync(second.Id)).ProgressMessage);
    }
}
