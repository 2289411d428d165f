using TypedJobs.Storage.Memory;

namespace TypedJobs.Storage.Memory.Tests;

/// <summary>
/// Claim order of the in-memory store (priority, then due time, then insertion order) where jobs reach the ready set
/// out of order: promoted scheduled jobs, jobs returned to Ready, a clock that moves backwards, cancelled jobs.
/// </summary>
public sealed class MemoryClaimOrderTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Claim_TakesPriorityFirst_ThenDueTime_ThenInsertionOrder()
    {
        var clock = new SettableClock(Start);
        var store = new MemoryStorage(clock);
        var low = await InsertAsync(store, Priority.Low);
        var normalLater = await InsertAsync(store, Priority.Normal, runAt: Start.AddSeconds(-1));
        var high = await InsertAsync(store, Priority.High);
        var normalEarlier = await InsertAsync(store, Priority.Normal, runAt: Start.AddSeconds(-2));
        var normalSameDue = await InsertAsync(store, Priority.Normal, runAt: Start.AddSeconds(-1));
        var critical = await InsertAsync(store, Priority.Critical);

        Assert.Equal([critical, high, normalEarlier, normalLater, normalSameDue, low], await ClaimAsync(store, 10));
    }

    [Fact]
    public async Task PromotedScheduledJob_DueEarlier_IsClaimedBeforeJobsInsertedAfterIt()
    {
        var clock = new SettableClock(Start);
        var store = new MemoryStorage(clock);
        var scheduled = await InsertAsync(store, Priority.Normal, delay: TimeSpan.FromSeconds(10));
        clock.Now = Start.AddSeconds(20);
        var a = await InsertAsync(store, Priority.Normal);
        var b = await InsertAsync(store, Priority.Normal);
        var lowScheduled = await InsertAsync(store, Priority.Low, delay: TimeSpan.FromSeconds(-5));

        // The claim promotes the scheduled job (due at +10 s) behind two jobs due at +20 s: it goes first.
        Assert.Equal([scheduled, a, b, lowScheduled], await ClaimAsync(store, 10));
    }

    [Fact]
    public async Task JobReturnedToReady_KeepsItsDueTime_AheadOfLaterJobs()
    {
        var clock = new SettableClock(Start);
        var store = new MemoryStorage(clock);
        var first = await InsertAsync(store, Priority.Normal);
        clock.Now = Start.AddSeconds(1);
        var second = await InsertAsync(store, Priority.Normal);
        var third = await InsertAsync(store, Priority.Normal);

        var claimed = await store.JobsClaimAsync(Claim(1), CancellationToken.None);
        var job = Assert.Single(claimed.Jobs);
        Assert.Equal(first, job.Id);
        var completed = await store.JobsCompleteAsync(
            new JobsCompleteParams([new JobCompletion { Job = new JobRef(job.Id, job.Queue), LeaseToken = job.LeaseToken!.Value, TargetState = JobState.Ready }]),
            CancellationToken.None);
        Assert.True(Assert.Single(completed.Applied));

        Assert.Equal([first, second, third], await ClaimAsync(store, 10));
    }

    [Fact]
    public async Task ClockMovingBackwards_OrdersByDueTime_NotByArrival()
    {
        var clock = new SettableClock(Start.AddMinutes(5));
        var store = new MemoryStorage(clock);
        var late = await InsertAsync(store, Priority.Normal);
        clock.Now = Start;
        var early = await InsertAsync(store, Priority.Normal);
        var earlyToo = await InsertAsync(store, Priority.Normal);
        clock.Now = Start.AddMinutes(10);
        var latest = await InsertAsync(store, Priority.Normal);

        Assert.Equal([early, earlyToo, late, latest], await ClaimAsync(store, 10));
    }

    [Fact]
    public async Task CancelledAndDeletedWaitingJobs_AreNotClaimed_AndTheOthersKeepTheirOrder()
    {
        var clock = new SettableClock(Start);
        var store = new MemoryStorage(clock);
        var ids = new List<JobId>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await InsertAsync(store, Priority.Normal));
        }

        // An out-of-order job, so both the in-order and the out-of-order part of the ready set hold a cancelled job.
        var early = await InsertAsync(store, Priority.Normal, runAt: Start.AddSeconds(-1));
        var earlyCancelled = await InsertAsync(store, Priority.Normal, runAt: Start.AddSeconds(-1));
        Assert.True((await store.JobsCancelAsync(new JobsCancelParams(new JobRef(ids[0], "q")), CancellationToken.None)).Cancelled);
        Assert.True((await store.JobsCancelAsync(new JobsCancelParams(new JobRef(ids[3], "q")), CancellationToken.None)).Cancelled);
        Assert.True((await store.JobsCancelAsync(new JobsCancelParams(new JobRef(earlyCancelled, "q")), CancellationToken.None)).Cancelled);
        Assert.True((await store.JobsDeleteAsync(new JobsDeleteParams(new JobRef(ids[4], "q")), CancellationToken.None)).Deleted);

        Assert.Equal([early, ids[1], ids[2], ids[5]], await ClaimAsync(store, 10));

        // A cancelled job that is retried waits again, due at the time of the retry (ahead of it, a job due earlier).
        var earlier = await InsertAsync(store, Priority.Normal);
        clock.Now = Start.AddSeconds(1);
        Assert.True((await store.JobsRetryAsync(new JobsRetryParams(new JobRef(ids[3], "q")), CancellationToken.None)).Retried);
        Assert.Equal([earlier, ids[3]], await ClaimAsync(store, 10));
    }

    [Fact]
    public async Task TaskLimit_SkipsJobsOfACappedTask_AndLeavesThemFirstInLine()
    {
        var clock = new SettableClock(Start);
        var store = new MemoryStorage(clock);
        var a1 = await InsertAsync(store, Priority.Normal, task: "a");
        var a2 = await InsertAsync(store, Priority.Normal, task: "a");
        var b1 = await InsertAsync(store, Priority.Normal, task: "b");
        var a3 = await InsertAsync(store, Priority.Normal, task: "a");
        var b2 = await InsertAsync(store, Priority.Normal, task: "b");

        var limited = await store.JobsClaimAsync(Claim(10) with { TaskLimits = new Dictionary<string, int> { ["a"] = 1 } }, CancellationToken.None);
        Assert.Equal([a1, b1, b2], limited.Jobs.Select(j => j.Id));
        Assert.Equal([a2, a3], await ClaimAsync(store, 10));
    }

    [Fact]
    public async Task DeepBacklog_DrainsInOrder_AndTheStoreKeepsWorkingAfterwards()
    {
        var clock = new SettableClock(Start);
        var store = new MemoryStorage(clock);
        var expected = new List<JobId>();
        for (var i = 0; i < 10_000; i++)
        {
            expected.Add(await InsertAsync(store, Priority.Normal));
        }

        var claimed = new List<JobId>();
        while (claimed.Count < expected.Count)
        {
            var batch = await ClaimAsync(store, 700);
            Assert.NotEmpty(batch);
            claimed.AddRange(batch);
        }

        Assert.Equal(expected, claimed);
        Assert.Empty(await ClaimAsync(store, 10));
        var after = await InsertAsync(store, Priority.Normal);
        Assert.Equal([after], await ClaimAsync(store, 10));
    }

    private static JobsClaimParams Claim(int max) => new()
    {
        WorkerId = "w",
        Queues = [new QueueClaim("q", max)],
        Max = max,
        LeaseDuration = TimeSpan.FromMinutes(5),
    };

    private static async Task<JobId[]> ClaimAsync(MemoryStorage store, int max) =>
        [.. (await store.JobsClaimAsync(Claim(max), CancellationToken.None)).Jobs.Select(j => j.Id)];

    private static async Task<JobId> InsertAsync(MemoryStorage store, Priority priority, DateTimeOffset? runAt = null, TimeSpan? delay = null, string task = "t")
    {
        var id = JobId.New();
        var result = await store.JobsInsertAsync(
            new JobsInsertParams([new JobInsert { Id = id, TaskName = task, Queue = "q", Priority = priority, Payload = [1], RunAt = runAt, Delay = delay }]),
            CancellationToken.None);
        Assert.True(Assert.Single(result.Outcomes).Inserted);
        return id;
    }

    /// <summary>A clock set by hand, forwards or backwards.</summary>
    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
