using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

public class LeaseAndRescueTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private static JobInsert Insert(Priority priority = Priority.Normal, int maxRetries = 3, DateTimeOffset? runAt = null, string queue = "default") =>
        new() { Id = JobId.New(), TaskName = "t", Queue = queue, Priority = priority, Payload = "{}"u8.ToArray(), MaxRetries = maxRetries, RunAt = runAt };

    private static async Task<JobRecord> ClaimOneAsync(MemoryStorage store, string worker)
    {
        var result = await store.JobsClaimAsync(new JobsClaimParams { WorkerId = worker, Queues = [new QueueClaim("default", 10)], Max = 1, LeaseDuration = Lease }, default);
        return Assert.Single(result.Jobs);
    }

    [Fact]
    public async Task Claim_OrdersByPriority_ThenDueTime_ThenInsertion()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryStorage(time);
        var t0 = time.GetUtcNow();
        var lowEarly = Insert(Priority.Low, runAt: t0 - TimeSpan.FromHours(1));
        var normalLate = Insert(Priority.Normal, runAt: t0 - TimeSpan.FromMinutes(1));
        var normalEarly = Insert(Priority.Normal, runAt: t0 - TimeSpan.FromMinutes(10));
        var normalSameDueA = Insert(Priority.Normal, runAt: t0);
        var normalSameDueB = Insert(Priority.Normal, runAt: t0);
        var critical = Insert(Priority.Critical, runAt: t0);
        var high = Insert(Priority.High, runAt: t0);
        var future = Insert(Priority.Critical, runAt: t0 + TimeSpan.FromMinutes(5));
        await store.JobsInsertAsync(new JobsInsertParams([lowEarly, normalLate, normalEarly, normalSameDueA, normalSameDueB, critical, high, future]), default);

        var claimed = await store.JobsClaimAsync(new JobsClaimParams { WorkerId = "w", Queues = [new QueueClaim("default", 100)], Max = 100, LeaseDuration = Lease }, default);

        Assert.Equal(
            [critical.Id, high.Id, normalEarly.Id, normalLate.Id, normalSameDueA.Id, normalSameDueB.Id, lowEarly.Id],
            claimed.Jobs.Select(j => j.Id));
        Assert.All(claimed.Jobs, j => Assert.Equal(JobState.Running, j.State));
        Assert.Equal(future.RunAt - time.GetUtcNow(), claimed.NextDueIn);
    }

    [Fact]
    public async Task StaleWorkersCompletion_IsRefused_AfterItsLeaseWasRescuedAndReclaimed()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryStorage(time);
        await store.JobsInsertAsync(new JobsInsertParams([Insert()]), default);
        var stale = await ClaimOneAsync(store, "worker-a");

        time.Advance(Lease + TimeSpan.FromSeconds(1));
        var rescued = await store.JobsRescueAsync(new JobsRescueParams(100), default);
        Assert.Equal(JobState.Ready, Assert.Single(rescued.Jobs).NewState);
        var fresh = await ClaimOneAsync(store, "worker-b");
        Assert.Equal(stale.Id, fresh.Id);
        Assert.NotEqual(stale.LeaseToken, fresh.LeaseToken);
        Assert.Equal(2, fresh.Attempt);

        var staleWrite = await store.JobsCompleteAsync(new JobsCompleteParams([
            new JobCompletion { Job = stale.Ref, LeaseToken = stale.LeaseToken!.Value, TargetState = JobState.Dead, Error = "stale" },
        ]), default);
        var staleExtend = await store.LeasesExtendAsync(new LeasesExtendParams("worker-a", [new JobLease(stale.Ref, stale.LeaseToken!.Value)], Lease), default);

        Assert.False(Assert.Single(staleWrite.Applied));
        Assert.Equal([stale.Id], staleExtend.Lost.Select(l => l.Job.Id));
        var current = (await store.JobsGetAsync(new JobsGetParams(stale.Id), default)).Job!;
        Assert.Equal(JobState.Running, current.State);
        Assert.Equal("worker-b", current.WorkerId);

        var freshWrite = await store.JobsCompleteAsync(new JobsCompleteParams([
            new JobCompletion { Job = fresh.Ref, LeaseToken = fresh.LeaseToken!.Value, TargetState = JobState.Succeeded },
        ]), default);
        Assert.True(Assert.Single(freshWrite.Applied));
        Assert.Equal(JobState.Succeeded, (await store.JobsGetAsync(new JobsGetParams(stale.Id), default)).Job!.State);
    }

    [Fact]
    public async Task Rescue_RechecksStateAndExpiry()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryStorage(time);
        await store.JobsInsertAsync(new JobsInsertParams([Insert(), Insert(), Insert()]), default);
        var extended = await ClaimOneAsync(store, "w");
        var completed = await ClaimOneAsync(store, "w");
        var abandoned = await ClaimOneAsync(store, "w");

        time.Advance(Lease - TimeSpan.FromSeconds(5));
        await store.LeasesExtendAsync(new LeasesExtendParams("w", [new JobLease(extended.Ref, extended.LeaseToken!.Value)], Lease), default);
        await store.JobsCompleteAsync(new JobsCompleteParams([
            new JobCompletion { Job = completed.Ref, LeaseToken = completed.LeaseToken!.Value, TargetState = JobState.Succeeded },
        ]), default);
        Assert.Empty((await store.JobsRescueAsync(new JobsRescueParams(100), default)).Jobs);

        time.Advance(TimeSpan.FromSeconds(10));
        var rescued = await store.JobsRescueAsync(new JobsRescueParams(100), default);

        Assert.Equal(abandoned.Id, Assert.Single(rescued.Jobs).Job.Id);
        Assert.Equal(JobState.Running, (await store.JobsGetAsync(new JobsGetParams(extended.Id), default)).Job!.State);
        Assert.Equal(JobState.Succeeded, (await store.JobsGetAsync(new JobsGetParams(completed.Id), default)).Job!.State);
        Assert.Equal(JobState.Ready, (await store.JobsGetAsync(new JobsGetParams(abandoned.Id), default)).Job!.State);
        Assert.Empty((await store.JobsRescueAsync(new JobsRescueParams(100), default)).Jobs);
    }

    [Fact]
    public async Task Rescue_DeadLettersAJobWithNoAttemptsLeft()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryStorage(time);
        await store.JobsInsertAsync(new JobsInsertParams([Insert(maxRetries: 0)]), default);
        var job = await ClaimOneAsync(store, "crashed");

        time.Advance(Lease);
        var rescued = Assert.Single((await store.JobsRescueAsync(new JobsRescueParams(100), default)).Jobs);

        Assert.Equal(JobState.Dead, rescued.NewState);
        var dead = (await store.JobsGetAsync(new JobsGetParams(job.Id), default)).Job!;
        Assert.Equal(JobState.Dead, dead.State);
        Assert.Contains("crashed", dead.LastError);
    }

    [Fact]
    public async Task Worker_RescuesJobsOrphanedByACrashedWorker_AndRunsThem()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryStorage(time);
        var ran = new TaskCompletionSource<int>();
        var task = Tasks.Create("t", (_, ctx) =>
        {
            ran.TrySetResult(ctx.Attempt);
            return ValueTask.CompletedTask;
        });
        // A worker that crashed: it claimed the job and never came back.
        await store.JobsInsertAsync(new JobsInsertParams([Insert()]), default);
        var orphan = await ClaimOneAsync(store, "crashed-worker");

        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w => w.RescueInterval = TimeSpan.FromSeconds(10), time: time, storage: store);
        await Eventually.TrueAsync(() => ran.Task.IsCompleted, "the orphan to run", tick: () => time.Advance(TimeSpan.FromSeconds(5)));

        Assert.Equal(2, await ran.Task);
        await host.WaitForStateAsync(orphan.Id, JobState.Succeeded);
    }

    [Fact]
    public async Task AnAttemptThatCrashesOutsideItsHandler_FreesItsSlot_AndIsRescuedLater()
    {
        var time = new FakeTimeProvider();
        var ran = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var task = Tasks.Create("fragile", (p, _) =>
        {
            ran.Enqueue(p.Name);
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.Concurrency = 1;
            w.LeaseDuration = TimeSpan.FromSeconds(30);
            w.RescueInterval = TimeSpan.FromSeconds(5);
        }, time: time, startWorker: true);
        // An instrumentation listener that throws once, on the first attempt that starts.
        var meter = host.Services.GetRequiredService<TypedJobs.Diagnostics.TypedJobsMetrics>().Meter;
        var thrown = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "typedjobs.jobs.started")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) =>
        {
            if (Interlocked.Exchange(ref thrown, 1) == 0)
            {
                throw new InvalidOperationException("listener bug");
            }
        });
        listener.Start();

        var crashed = await host.Client.EnqueueAsync(task, new TestPayload("first"));
        await Eventually.TrueAsync(() => Volatile.Read(ref thrown) == 1, "the first attempt to crash");
        var next = await host.Client.EnqueueAsync(task, new TestPayload("second"));

        // The single slot was freed: the next job runs while the crashed one waits for its lease to expire.
        await host.WaitForStateAsync(next, JobState.Succeeded);
        Assert.Equal(JobState.Running, (await host.Client.GetJobAsync(crashed))!.State);
        await host.WaitForStateAsync(crashed, JobState.Succeeded, () => time.Advance(TimeSpan.FromSeconds(5)));

        Assert.Equal(["second", "first"], ran);
        Assert.Equal(2, (await host.Client.GetJobAsync(crashed))!.Attempt);
    }
}
