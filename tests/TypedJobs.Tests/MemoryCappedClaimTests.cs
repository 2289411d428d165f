using Microsoft.Extensions.Time.Testing;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;

namespace TypedJobs.Tests;

/// <summary>
/// A claim of the in-memory store that holds a task at its cap skips that task's waiting jobs without walking past them:
/// the capped task's backlog is set apart once, and every later claim takes off its ready queues only what it returns.
/// </summary>
public class MemoryCappedClaimTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AClaimWithATaskAtItsCap_TakesTheOthersJobs_WithoutWalkingPastTheCappedBacklog()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new MemoryStorage(time);
        var queues = new[] { new QueueClaim("q", 100) };
        var lease = TimeSpan.FromMinutes(5);

        // 10,000 jobs of a capped task ahead of everything else in the queue's claim order.
        const int backlog = 10_000;
        for (var sent = 0; sent < backlog; sent += 1000)
        {
            await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 1000)
                .Select(_ => new JobInsert { Id = JobId.New(), TaskName = "capped", Queue = "q", Payload = [1] }).ToArray()), Ct);
        }

        var capped = new Dictionary<string, int>(StringComparer.Ordinal) { ["capped"] = 0 };
        for (var round = 0; round < 20; round++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            var others = Enumerable.Range(0, 5)
                .Select(_ => new JobInsert { Id = JobId.New(), TaskName = "other", Queue = "q", Payload = [2] }).ToArray();
            await store.JobsInsertAsync(new JobsInsertParams(others), Ct);

            var visitsBefore = store.ClaimVisits;
            var claimed = (await store.JobsClaimAsync(new JobsClaimParams
            {
                WorkerId = "w", Queues = queues, Max = 10, LeaseDuration = lease, TaskLimits = capped,
            }, Ct)).Jobs;

            Assert.Equal(others.Select(j => j.Id).Order(), claimed.Select(j => j.Id).Order());
            Assert.Equal(claimed.Count, store.ClaimVisits - visitsBefore);
        }

        // The capped backlog is still there, in its order: a claim that lets the task run two takes its first two.
        var firstTwo = (await store.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = queues, Max = 10, LeaseDuration = lease,
            TaskLimits = new Dictionary<string, int>(StringComparer.Ordinal) { ["capped"] = 2 },
        }, Ct)).Jobs;
        Assert.Equal(2, firstTwo.Count);
        Assert.All(firstTwo, j => Assert.Equal("capped", j.TaskName));

        // A worker that caps nothing still finds the set-apart task's jobs, in claim order with the others.
        await store.JobsInsertAsync(new JobsInsertParams([new JobInsert { Id = JobId.New(), TaskName = "other", Queue = "q", Payload = [3] }]), Ct);
        var uncapped = (await store.JobsClaimAsync(new JobsClaimParams { WorkerId = "w2", Queues = queues, Max = 3, LeaseDuration = lease }, Ct)).Jobs;
        Assert.Equal(["capped", "capped", "capped"], uncapped.Select(j => j.TaskName));
        var counts = await store.QueuesListAsync(new QueuesListParams(), Ct);
        Assert.Equal(backlog - 5 + 1, counts.Queues.Single(q => q.Name == "q").Counts[JobState.Ready]);
    }
}
