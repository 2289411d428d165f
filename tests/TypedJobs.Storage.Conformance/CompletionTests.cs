namespace TypedJobs.Storage.Conformance;

/// <summary>Outcomes of attempts (succeed, retry, dead, cancel, snooze, release) and operator actions on jobs.</summary>
public abstract class CompletionTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private async Task<JobRecord> RunningJobAsync(int maxRetries = 3)
    {
        await InsertOneAsync(NewJob(maxRetries: maxRetries));
        Clock.Advance(TimeSpan.FromSeconds(1));
        return await ClaimOneAsync();
    }

    [Fact]
    public async Task Succeeded_FinishesTheJobAndDropsTheLease()
    {
        var job = await RunningJobAsync();
        Clock.Advance(TimeSpan.FromSeconds(2));

        Assert.True(await CompleteAsync(job, CompletionKind.Succeeded));
        var stored = await GetAsync(job.Id);

        Assert.Equal(JobState.Succeeded, stored.State);
        Assert.Equal(Now, stored.FinishedAt);
        Assert.Equal(1, stored.Attempt);
        Assert.Null(stored.LeaseToken);
        Assert.Null(stored.LeaseExpiresAt);
        Assert.Null(stored.LastError);
    }

    [Fact]
    public async Task Retry_SchedulesTheJobAfterTheDelayAndKeepsTheAttempt()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, CompletionKind.Retry, TimeSpan.FromSeconds(5), "boom"));
        var waiting = await GetAsync(job.Id);
        var early = await ClaimAsync();
        Clock.Advance(TimeSpan.FromSeconds(5));
        var again = await ClaimOneAsync();

        Assert.Equal(JobState.Scheduled, waiting.State);
        Assert.Equal(Now, waiting.DueAt);
        Assert.Equal(1, waiting.Attempt);
        Assert.Equal("boom", waiting.LastError);
        Assert.Null(waiting.LeaseToken);
        Assert.Null(waiting.FinishedAt);
        Assert.Empty(early);
        Assert.Equal(2, again.Attempt);
    }

    [Fact]
    public async Task Retry_WithoutDelay_IsReadyAtOnce()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, CompletionKind.Retry, TimeSpan.Zero, "boom"));

        Assert.Equal(JobState.Ready, (await GetAsync(job.Id)).State);
        Assert.Equal(job.Id, (await ClaimOneAsync()).Id);
    }

    [Fact]
    public async Task Dead_FinishesTheJobWithItsError()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, CompletionKind.Dead, error: "permanent"));
        var stored = await GetAsync(job.Id);

        Assert.Equal(JobState.Dead, stored.State);
        Assert.Equal("permanent", stored.LastError);
        Assert.Equal(Now, stored.FinishedAt);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task CancelledCompletion_FinishesTheJobAsCancelled()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, CompletionKind.Cancelled, error: "stopped"));

        var stored = await GetAsync(job.Id);
        Assert.Equal(JobState.Cancelled, stored.State);
        Assert.Equal(Now, stored.FinishedAt);
    }

    [Fact]
    public async Task Snooze_GivesTheAttemptBackAndWaitsForTheDelay()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, CompletionKind.Snooze, TimeSpan.FromMinutes(1)));
        var stored = await GetAsync(job.Id);
        Clock.Advance(TimeSpan.FromMinutes(1));
        var again = await ClaimOneAsync();

        Assert.Equal(JobState.Scheduled, stored.State);
        Assert.Equal(0, stored.Attempt);
        Assert.Equal(Now, stored.DueAt);
        Assert.Null(stored.LastError);
        Assert.Equal(1, again.Attempt);
    }

    [Fact]
    public async Task Release_ReturnsTheJobToReadyAndGivesTheAttemptBack()
    {
        var job = await RunningJobAsync();
        Clock.Advance(TimeSpan.FromSeconds(5));

        Assert.True(await CompleteAsync(job, CompletionKind.Release));
        var stored = await GetAsync(job.Id);
        var again = await ClaimOneAsync();

        Assert.Equal(JobState.Ready, stored.State);
        Assert.Equal(0, stored.Attempt);
        Assert.Equal(job.DueAt, stored.DueAt);
        Assert.Null(stored.LeaseToken);
        Assert.Equal(1, again.Attempt);
    }

    [Fact]
    public async Task Cancel_ReadyJob_CancelsIt()
    {
        var id = await InsertOneAsync(NewJob());

        var result = await Jobs.JobsCancelAsync(id, Ct);

        Assert.Equal(new JobCancelResult(true, true, JobState.Ready), result);
        Assert.Equal(JobState.Cancelled, (await GetAsync(id)).State);
        Assert.Equal(Now, (await GetAsync(id)).FinishedAt);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task Cancel_ScheduledJob_ReportsItWasScheduled()
    {
        var id = await InsertOneAsync(NewJob(delay: TimeSpan.FromMinutes(1)));

        var result = await Jobs.JobsCancelAsync(id, Ct);
        Clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(new JobCancelResult(true, true, JobState.Scheduled), result);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task Cancel_RunningJob_TakesItsLeaseAway()
    {
        var job = await RunningJobAsync();

        var result = await Jobs.JobsCancelAsync(job.Id, Ct);
        var extend = await Jobs.LeasesExtendAsync(new LeasesExtendParams("worker-1", [new JobLease(job.Id, job.LeaseToken!.Value)], Lease), Ct);

        Assert.Equal(new JobCancelResult(true, true, JobState.Running), result);
        Assert.Equal([job.Id], extend.Lost);
        Assert.Null((await GetAsync(job.Id)).LeaseToken);
    }

    [Fact]
    public async Task Cancel_FinishedJob_IsNotCancelled()
    {
        var id = await FinishedJobAsync(JobState.Succeeded);

        var result = await Jobs.JobsCancelAsync(id, Ct);

        Assert.Equal(new JobCancelResult(true, false, JobState.Succeeded), result);
        Assert.Equal(JobState.Succeeded, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task Cancel_MissingJob_IsNotFound()
    {
        var result = await Jobs.JobsCancelAsync(JobId.New(), Ct);

        Assert.False(result.Found);
        Assert.False(result.Cancelled);
    }

    [Theory]
    [InlineData(JobState.Dead)]
    [InlineData(JobState.Cancelled)]
    public async Task RetryJob_DeadOrCancelled_ReturnsToReadyWithAttemptsReset(JobState state)
    {
        var id = await FinishedJobAsync(state);
        Clock.Advance(TimeSpan.FromSeconds(3));

        Assert.True(await Jobs.JobsRetryAsync(id, Ct));
        var stored = await GetAsync(id);
        var claimed = await ClaimOneAsync();

        Assert.Equal(JobState.Ready, stored.State);
        Assert.Equal(0, stored.Attempt);
        Assert.Null(stored.FinishedAt);
        Assert.Equal(Now, stored.DueAt);
        Assert.Equal(id, claimed.Id);
        Assert.Equal(1, claimed.Attempt);
    }

    [Fact]
    public async Task RetryJob_SucceededWaitingOrMissing_IsRefused()
    {
        var succeeded = await FinishedJobAsync(JobState.Succeeded);
        var waiting = await InsertOneAsync(NewJob(delay: TimeSpan.FromMinutes(1)));

        Assert.False(await Jobs.JobsRetryAsync(succeeded, Ct));
        Assert.False(await Jobs.JobsRetryAsync(waiting, Ct));
        Assert.False(await Jobs.JobsRetryAsync(JobId.New(), Ct));
        Assert.Equal(JobState.Succeeded, (await GetAsync(succeeded)).State);
        Assert.Equal(JobState.Scheduled, (await GetAsync(waiting)).State);
    }

    [Fact]
    public async Task Delete_RemovesJobsInEveryState()
    {
        var ready = await InsertOneAsync(NewJob());
        var scheduled = await InsertOneAsync(NewJob(delay: TimeSpan.FromMinutes(1)));
        var running = await InsertOneAsync(NewJob(queue: "r"));
        await ClaimOneAsync("r");
        var dead = await FinishedJobAsync(JobState.Dead, queue: "d");

        foreach (var id in new[] { ready, scheduled, running, dead })
        {
            Assert.True(await Jobs.JobsDeleteAsync(id, Ct));
            Assert.Null(await Jobs.JobsGetAsync(id, Ct));
        }

        Assert.False(await Jobs.JobsDeleteAsync(ready, Ct));
        Assert.Empty(await Jobs.QueuesListAsync(Ct));
    }
}
