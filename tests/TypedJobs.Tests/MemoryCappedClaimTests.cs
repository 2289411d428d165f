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

    [Fact]
    public async Task TwoCappedTasks_AreSetApartInOnePass_AndTheirOrderAndCountsAreKept()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new MemoryStorage(time);
        var queues = new[] { new QueueClaim("q", 100) };
        var lease = TimeSpan.FromMinutes(5);
        var inserts = Enumerable.Range(0, 3000)
            .Select(i => new JobInsert { Id = JobId.New(), TaskName = (i % 3) switch { 0 => "a", 1 => "b", _ => "c" }, Queue = "q", Payload = [1] })
            .ToArray();
        await store.JobsInsertAsync(new JobsInsertParams(inserts), Ct);

        var limits = new Dictionary<string, int>(StringComparer.Ordinal) { ["a"] = 0, ["b"] = 1 };
        var claimed = (await store.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = queues, Max = 4, LeaseDuration = lease, TaskLimits = limits,
        }, Ct)).Jobs;

        // "b" has room for one, "c" is not capped; both come in claim order, "a" not at all.
        Assert.Equal(inserts[1].Id, claimed[0].Id);
        Assert.Equal(["b", "c", "c", "c"], claimed.Select(j => j.TaskName));
        Assert.Equal(inserts.Where(j => j.TaskName == "c").Take(3).Select(j => j.Id), claimed.Skip(1).Select(j => j.Id));

        // A later claim with both at their cap reads only what it returns.
        var visits = store.ClaimVisits;
        var next = (await store.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = queues, Max = 5, LeaseDuration = lease,
            TaskLimits = new Dictionary<string, int>(StringComparer.Ordinal) { ["a"] = 0, ["b"] = 0 },
        }, Ct)).Jobs;
        Assert.Equal(inserts.Where(j => j.TaskName == "c").Skip(3).Take(5).Select(j => j.Id), next.Select(j => j.Id));
        Assert.Equal(5, store.ClaimVisits - visits);

        // A claim without caps takes the set-apart jobs in the original order again.
        var all = (await store.JobsClaimAsync(new JobsClaimParams { WorkerId = "w", Queues = queues, Max = 3, LeaseDuration = lease }, Ct)).Jobs;
        Assert.Equal([inserts[0].Id, inserts[3].Id, inserts[4].Id], all.Select(j => j.Id));
        var counts = (await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues.Single(q => q.Name == "q").Counts;
        Assert.Equal(3000 - 4 - 5 - 3, counts[JobState.Ready]);
    }
}
