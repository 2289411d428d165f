using Microsoft.Extensions.Time.Testing;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;

namespace TypedJobs.Tests;

/// <summary>
/// The in-memory store's lease heap holds about the running jobs, not every lease handed out within a lease duration,
/// and what it drops never includes a live lease: an expired one is still rescued.
/// </summary>
public class MemoryLeaseHeapTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FinishedLeases_AreDropped_AndALiveLeaseIsStillRescued()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new MemoryStorage(time);
        var queues = new[] { new QueueClaim("q", 100) };
        var lease = TimeSpan.FromSeconds(30);
        await store.JobsInsertAsync(new JobsInsertParams([new JobInsert { Id = JobId.New(), TaskName = "t", Queue = "q", Payload = [1] }]), Ct);
        var kept = Assert.Single((await store.JobsClaimAsync(new JobsClaimParams { WorkerId = "w", Queues = queues, Max = 1, LeaseDuration = lease }, Ct)).Jobs);

        const int churn = 20_000;
        for (var done = 0; done < churn; done += 100)
        {
            var batch = Enumerable.Range(0, 100).Select(_ => new JobInsert { Id = JobId.New(), TaskName = "t", Queue = "q", Payload = [1] }).ToArray();
            await store.JobsInsertAsync(new JobsInsertParams(batch), Ct);
            var claimed = (await store.JobsClaimAsync(new JobsClaimParams { WorkerId = "w", Queues = queues, Max = 100, LeaseDuration = lease }, Ct)).Jobs;
            Assert.Equal(100, claimed.Count);
            await store.JobsCompleteAsync(new JobsCompleteParams(claimed.Select(j => new JobCompletion
            {
                Job = j.Ref,
                LeaseToken = j.LeaseToken!.Value,
                TargetState = JobState.Succeeded,
            }).ToArray()), Ct);
        }

        // Without compaction the heap would hold an entry for each of the 20,001 claims until their leases expired.
        Assert.True(store.LeaseEntries <= 4096 + 2 + 100, $"{store.LeaseEntries} lease entries with one job running");

        time.Advance(lease + TimeSpan.FromSeconds(1));
        var rescued = await store.JobsRescueAsync(new JobsRescueParams(10), Ct);
        Assert.Equal(kept.Id, Assert.Single(rescued.Jobs).Job.Id);
    }
}
