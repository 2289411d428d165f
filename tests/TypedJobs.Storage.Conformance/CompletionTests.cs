namespace TypedJobs.Storage.Conformance;

/// <summary>
/// Decided completions applied by the store (target state, delay from the store's clock, attempt adjustment, error,
/// result) and operator actions on jobs. The engine's transitions (success, retry, dead, snooze, release) map to these
/// values; the store applies them without interpreting what they mean.
/// </summary>
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

        Assert.True(await CompleteAsync(job, JobState.Succeeded));
        var stored = await GetAsync(job.Id);

        Assert.Equal(JobState.Succeeded, stored.State);
        Assert.Equal(Now, stored.FinishedAt);
        Assert.Equal(1, stored.Attempt);
        Assert.Null(stored.LeaseToken);
        Assert.Null(stored.LeaseExpiresAt);
        Assert.Null(stored.LastError);
    }

    [Fact]
    public async Task Waiting_WithDelayAndError_SchedulesTheJobAfterTheDelayAndKeepsTheAttempt()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, JobState.Ready, TimeSpan.FromSeconds(5), "boom", failed: true));
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
    public async Task Waiting_WithZeroDelay_IsReadyAtOnce()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, JobState.Ready, TimeSpan.Zero, "boom", failed: true));

        Assert.Equal(JobState.Ready, (await GetAsync(job.Id)).State);
        Assert.Equal(job.Id, (await ClaimOneAsync()).Id);
    }

    [Fact]
    public async Task Dead_FinishesTheJobWithItsError()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, JobState.Dead, error: "permanent", failed: true));
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

        Assert.True(await CompleteAsync(job, JobState.Cancelled, error: "stopped"));

        var stored = await GetAsync(job.Id);
        Assert.Equal(JobState.Cancelled, stored.State);
        Assert.Equal(Now, stored.FinishedAt);
    }

    [Fact]
    public async Task Waiting_GivingTheAttemptBack_WaitsForTheDelayAndKeepsTheLastError()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, JobState.Ready, TimeSpan.FromMinutes(1), attemptDelta: -1));
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
    public async Task Waiting_WithoutDelay_KeepsTheDueTime_AndGivesTheAttemptBack()
    {
        var job = await RunningJobAsync();
        Clock.Advance(TimeSpan.FromSeconds(5));

        Assert.True(await CompleteAsync(job, JobState.Ready, delay: null, attemptDelta: -1));
        var stored = await GetAsync(job.Id);
        var again = await ClaimOneAsync();

        Assert.Equal(JobState.Ready, stored.State);
        Assert.Equal(0, stored.Attempt);
        Assert.Equal(job.DueAt, stored.DueAt);
        Assert.Null(stored.LeaseToken);
        Assert.Equal(1, again.Attempt);
    }

    [Fact]
    public async Task Completions_InOneBatch_ApplyEachAsItsOwnCompletionWould()
    {
        await InsertManyAsync(7);
        Clock.Advance(TimeSpan.FromSeconds(1));
        var jobs = await ClaimAsync(7);
        Clock.Advance(TimeSpan.FromSeconds(2));
        var (done, retry, dead, cancelled, released, unknown, stale) = (jobs[0], jobs[1], jobs[2], jobs[3], jobs[4], jobs[5], jobs[6]);
        const string error = "quote \" backslash \\ newline\n tab\t ünïcödé 😀 <&>";

        var result = await Jobs.JobsCompleteAsync(new JobsCompleteParams(
        [
            new JobCompletion { Job = done.Ref, LeaseToken = done.LeaseToken!.Value, TargetState = JobState.Succeeded, Result = [7], ResultTtl = TimeSpan.FromMinutes(5) },
            new JobCompletion { Job = retry.Ref, LeaseToken = retry.LeaseToken!.Value, TargetState = JobState.Ready, Delay = TimeSpan.FromSeconds(30), Error = error, Failed = true },
            new JobCompletion { Job = dead.Ref, LeaseToken = dead.LeaseToken!.Value, TargetState = JobState.Dead, Error = "permanent", Failed = true },
            new JobCompletion { Job = cancelled.Ref, LeaseToken = cancelled.LeaseToken!.Value, TargetState = JobState.Cancelled },
            new JobCompletion { Job = released.Ref, LeaseToken = released.LeaseToken!.Value, TargetState = JobState.Ready, AttemptDelta = -1 },
            new JobCompletion { Job = unknown.Ref, LeaseToken = unknown.LeaseToken!.Value, TargetState = JobState.Ready, Delay = TimeSpan.FromSeconds(5), Error = "unknown task", AttemptDelta = -1, MarkUnknownTask = true },
            new JobCompletion { Job = stale.Ref, LeaseToken = Guid.NewGuid(), TargetState = JobState.Succeeded, Result = [1], ResultTtl = TimeSpan.FromMinutes(5) },
        ]), Ct);

        Assert.Equal([true, true, true, true, true, true, false], result.Applied);
        var storedDone = await GetAsync(done.Id);
        Assert.Equal((JobState.Succeeded, Now, done.LeaseToken), (storedDone.State, storedDone.FinishedAt, storedDone.SucceededLeaseToken));
        Assert.Equal(new byte[] { 7 }, (await Results.ResultsGetAsync(new ResultsGetParams(done.Id, done.LeaseToken.Value), Ct)).Result!.Value);
        var storedRetry = await GetAsync(retry.Id);
        Assert.Equal((JobState.Scheduled, Now.AddSeconds(30), 1, error), (storedRetry.State, storedRetry.DueAt, storedRetry.Attempt, storedRetry.LastError));
        Assert.Null(storedRetry.LeaseToken);
        var storedDead = await GetAsync(dead.Id);
        Assert.Equal((JobState.Dead, "permanent", Now), (storedDead.State, storedDead.LastError, storedDead.FinishedAt));
        Assert.Equal(JobState.Cancelled, (await GetAsync(cancelled.Id)).State);
        var storedReleased = await GetAsync(released.Id);
        Assert.Equal((JobState.Ready, 0, released.DueAt), (storedReleased.State, storedReleased.Attempt, storedReleased.DueAt));
        var storedUnknown = await GetAsync(unknown.Id);
        Assert.Equal((JobState.Scheduled, 0, (DateTimeOffset?)Now), (storedUnknown.State, storedUnknown.Attempt, storedUnknown.UnknownTaskSince));
        var storedStale = await GetAsync(stale.Id);
        Assert.Equal((JobState.Running, stale.LeaseToken), (storedStale.State, storedStale.LeaseToken));
        Assert.Null((await Results.ResultsGetAsync(new ResultsGetParams(stale.Id, stale.LeaseToken!.Value), Ct)).Result);
    }

    [Fact]
    public async Task Completions_GivenInDescendingIdOrder_ReportWhichAppliedInTheOrderGiven()
    {
        await InsertManyAsync(4);
        var jobs = (await ClaimAsync(4)).OrderByDescending(j => j.Id.Value).ToArray();

        var result = await Jobs.JobsCompleteAsync(new JobsCompleteParams(
        [.. jobs.Select((j, i) => new JobCompletion
        {
            Job = j.Ref,
            LeaseToken = i == 1 ? Guid.NewGuid() : j.LeaseToken!.Value,
            TargetState = JobState.Succeeded,
        })]), Ct);

        Assert.Equal([true, false, true, true], result.Applied);
        var states = new List<JobState>();
        foreach (var job in jobs)
        {
            states.Add((await GetAsync(job.Id)).State);
        }

        Assert.Equal([JobState.Succeeded, JobState.Running, JobState.Succeeded, JobState.Succeeded], states);
    }

    [Fact]
    public async Task Completions_OfOneJobTwiceInOneBatch_ApplyOnlyTheOneThatHoldsTheLease()
    {
        await InsertManyAsync(2);
        var jobs = await ClaimAsync(2);
        var job = jobs[0];

        var result = await Jobs.JobsCompleteAsync(new JobsCompleteParams(
        [
            new JobCompletion { Job = job.Ref, LeaseToken = Guid.NewGuid(), TargetState = JobState.Dead, Error = "stale", Failed = true },
            new JobCompletion { Job = jobs[1].Ref, LeaseToken = jobs[1].LeaseToken!.Value, TargetState = JobState.Succeeded },
            new JobCompletion { Job = job.Ref, LeaseToken = job.LeaseToken!.Value, TargetState = JobState.Succeeded },
        ]), Ct);

        Assert.Equal([false, true, true], result.Applied);
        Assert.Equal(JobState.Succeeded, (await GetAsync(job.Id)).State);
        Assert.Null((await GetAsync(job.Id)).LastError);
    }

    [Fact]
    public async Task Cancel_ReadyJob_CancelsIt()
    {
        var id = await InsertOneAsync(NewJob());

        var result = await CancelJobAsync(id);

        Assert.Equal((true, true, JobState.Ready, "task"), (result.Found, result.Cancelled, result.PreviousState, result.TaskName));
        Assert.Equal(JobState.Cancelled, (await GetAsync(id)).State);
        Assert.Equal(Now, (await GetAsync(id)).FinishedAt);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task Cancel_ScheduledJob_ReportsItWasScheduled()
    {
        var id = await InsertOneAsync(NewJob(delay: TimeSpan.FromMinutes(1)));

        var result = await CancelJobAsync(id);
        Clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal((true, true, JobState.Scheduled), (result.Found, result.Cancelled, result.PreviousState));
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task Cancel_RunningJob_TakesItsLeaseAway()
    {
        var job = await RunningJobAsync();

        var result = await CancelJobAsync(job.Id);
        var extend = await Jobs.LeasesExtendAsync(new LeasesExtendParams("worker-1", [new JobLease(job.Ref, job.LeaseToken!.Value)], Lease), Ct);

        Assert.Equal((true, true, JobState.Running, 1), (result.Found, result.Cancelled, result.PreviousState, result.Attempt));
        Assert.Equal([job.Ref], extend.Lost.Select(l => l.Job));
        Assert.Null((await GetAsync(job.Id)).LeaseToken);
    }

    [Fact]
    public async Task Cancel_FinishedJob_IsNotCancelled()
    {
        var id = await FinishedJobAsync(JobState.Succeeded);

        var result = await CancelJobAsync(id);

        Assert.Equal((true, false, JobState.Succeeded), (result.Found, result.Cancelled, result.PreviousState));
        Assert.Equal(JobState.Succeeded, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task Cancel_MissingJob_IsNotFound()
    {
        var result = await CancelJobAsync(JobId.New());

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

        Assert.True(await RetryJobAsync(id));
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

        Assert.False(await RetryJobAsync(succeeded));
        Assert.False(await RetryJobAsync(waiting));
        Assert.False(await RetryJobAsync(JobId.New()));
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
            Assert.True(await DeleteJobAsync(id));
            Assert.Null(await FindAsync(id));
        }

        Assert.False(await DeleteJobAsync(ready));
        Assert.Empty(await QueuesAsync());
    }

    [Fact]
    public async Task Succeeded_WithAResult_WritesItInTheSameStep_KeyedByTheAttempt()
    {
        var job = await RunningJobAsync();

        Assert.True(await CompleteAsync(job, JobState.Succeeded, result: [4, 2], resultTtl: TimeSpan.FromMinutes(5)));
        var stored = await GetAsync(job.Id);
        var result = await Results.ResultsGetAsync(new ResultsGetParams(job.Id, stored.SucceededLeaseToken!.Value), Ct);

        Assert.Equal(job.LeaseToken, stored.SucceededLeaseToken);
        Assert.Equal(new byte[] { 4, 2 }, result.Result!.Value);
        Assert.Equal(Now.AddMinutes(5), result.Result.ExpiresAt);
    }

    [Fact]
    public async Task RefusedCompletion_WritesNoResult()
    {
        var job = await RunningJobAsync();
        var stale = Guid.NewGuid();

        Assert.False(await CompleteAsync(job, JobState.Succeeded, token: stale, result: [1], resultTtl: TimeSpan.FromMinutes(5)));

        Assert.Null((await Results.ResultsGetAsync(new ResultsGetParams(job.Id, stale), Ct)).Result);
        Assert.Null((await Results.ResultsGetAsync(new ResultsGetParams(job.Id, job.LeaseToken!.Value), Ct)).Result);
        Assert.Equal(JobState.Running, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task MarkUnknownTask_RecordsWhenItWasFirstSeen_AndKeepsIt()
    {
        var job = await RunningJobAsync();
        var firstSeen = Now;
        Assert.True(await CompleteAsync(job, JobState.Ready, TimeSpan.FromSeconds(5), "unknown task", attemptDelta: -1, markUnknown: true));
        Clock.Advance(TimeSpan.FromSeconds(5));
        var again = await ClaimOneAsync();
        Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await CompleteAsync(again, JobState.Ready, TimeSpan.FromSeconds(5), "unknown task", attemptDelta: -1, markUnknown: true));
        var stored = await GetAsync(job.Id);

        Assert.Equal(firstSeen, stored.UnknownTaskSince);
        Assert.Equal(0, stored.Attempt);
    }

    [Theory]
    [InlineData(JobState.Running, 0)]
    [InlineData(JobState.Succeeded, 1)]
    [InlineData(JobState.Ready, -2)]
    public async Task Completion_ThatNoTransitionProduces_IsRejected(JobState target, int attemptDelta)
    {
        var job = await RunningJobAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await CompleteAsync(job, target, attemptDelta: attemptDelta));

        Assert.Equal(JobState.Running, (await GetAsync(job.Id)).State);
    }

    [Fact]
    public async Task Completions_CountSucceededAndFailedAttemptsPerMinute()
    {
        var first = await RunningJobAsync();
        Assert.True(await CompleteAsync(first, JobState.Succeeded));
        await InsertOneAsync(NewJob());
        var second = await ClaimOneAsync();
        Assert.True(await CompleteAsync(second, JobState.Ready, TimeSpan.FromSeconds(1), "boom", failed: true));
        await InsertOneAsync(NewJob());
        var third = await ClaimOneAsync();
        Assert.True(await CompleteAsync(third, JobState.Dead, error: "boom", failed: true));
        Assert.False(await CompleteAsync(third, JobState.Succeeded));

        var stats = await Admin.StatsThroughputAsync(new StatsThroughputParams(TimeSpan.FromMinutes(3)), Ct);

        Assert.Equal(3, stats.Buckets.Count);
        Assert.Equal(StorageRules.MinuteOf(Now), stats.Buckets[^1].Minute);
        Assert.Equal((1, 2), (stats.Buckets[^1].Succeeded, stats.Buckets[^1].Failed));
        Assert.All(stats.Buckets.Take(2), b => Assert.Equal((0, 0), (b.Succeeded, b.Failed)));
    }

    [Fact]
    public async Task OperatorActions_WithAReferenceToAnotherQueue_DoNotFindTheJob()
    {
        var id = await InsertOneAsync(NewJob("right"));
        var wrong = new JobRef(id, "wrong");

        var cancel = await Admin.JobsCancelAsync(new JobsCancelParams(wrong), Ct);
        var delete = await Admin.JobsDeleteAsync(new JobsDeleteParams(wrong), Ct);
        var located = await Admin.JobsLocateAsync(new JobsLocateParams([id, JobId.New()]), Ct);

        Assert.False(cancel.Found);
        Assert.False(delete.Deleted);
        Assert.Equal([new JobRef(id, "right")], located.Jobs);
        Assert.Equal(JobState.Ready, (await GetAsync(id)).State);
    }
}
