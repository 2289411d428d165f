using TypedJobs.Storage;

namespace TypedJobs.Tests;

/// <summary>The queues a claim takes from, as every store reads them (<see cref="StorageRules.ClaimQueues"/>).</summary>
public class StorageRulesTests
{
    private static JobsClaimParams Claim(int max, params QueueClaim[] queues) => new()
    {
        WorkerId = "w",
        Queues = queues,
        Max = max,
        LeaseDuration = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public void ClaimQueues_NamesEachQueueOnce_InOrderOfFirstAppearance_WithTheSumOfItsMaximums()
    {
        var queues = StorageRules.ClaimQueues(Claim(100,
            new QueueClaim("b", 2), new QueueClaim("a", 1), new QueueClaim("b", 3), new QueueClaim("c", 4), new QueueClaim("a", 5)));

        Assert.Equal([new QueueClaim("b", 5), new QueueClaim("a", 6), new QueueClaim("c", 4)], queues);
    }

    [Fact]
    public void ClaimQueues_LeavesOutQueuesWithNothingToTake()
    {
        var queues = StorageRules.ClaimQueues(Claim(10,
            new QueueClaim("a", 0), new QueueClaim("b", -3), new QueueClaim("c", 2), new QueueClaim("b", 1)));

        Assert.Equal([new QueueClaim("c", 2), new QueueClaim("b", 1)], queues);
        Assert.Empty(StorageRules.ClaimQueues(Claim(10, new QueueClaim("a", 0))));
        Assert.Empty(StorageRules.ClaimQueues(Claim(10)));
    }

    [Fact]
    public void ClaimQueues_CapsEveryQueueAtTheClaimsMax_SoLargeMaximumsNeverOverflow()
    {
        var queues = StorageRules.ClaimQueues(Claim(64,
            new QueueClaim("a", int.MaxValue), new QueueClaim("a", int.MaxValue), new QueueClaim("b", 100), new QueueClaim("c", 7)));

        Assert.Equal([new QueueClaim("a", 64), new QueueClaim("b", 64), new QueueClaim("c", 7)], queues);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ClaimQueues_IsEmpty_WhenTheClaimTakesNothing(int max)
    {
        Assert.Empty(StorageRules.ClaimQueues(Claim(max, new QueueClaim("a", 5))));
    }

    [Fact]
    public void ClaimQueues_ComparesNamesOrdinally()
    {
        var queues = StorageRules.ClaimQueues(Claim(10, new QueueClaim("Emails", 1), new QueueClaim("emails", 1)));

        Assert.Equal([new QueueClaim("Emails", 1), new QueueClaim("emails", 1)], queues);
    }

    [Fact]
    public void ValidateCompletion_RefusesADelayOrAResultRetentionLongerThanMaxDelay_WhichNoStoreCanAddToItsClock()
    {
        var completion = new JobCompletion { Job = new JobRef(JobId.New(), "q"), LeaseToken = Guid.NewGuid(), TargetState = JobState.Ready };

        StorageRules.ValidateCompletion(completion with { Delay = StorageRules.MaxDelay });
        var delay = Assert.Throws<ArgumentException>(() => StorageRules.ValidateCompletion(completion with { Delay = TimeSpan.MaxValue }));
        var ttl = Assert.Throws<ArgumentException>(() => StorageRules.ValidateCompletion(completion with
        {
            TargetState = JobState.Succeeded, Result = [1], ResultTtl = StorageRules.MaxDelay + TimeSpan.FromTicks(1),
        }));

        Assert.Contains("36525 days", delay.Message);
        Assert.Contains("36525 days", ttl.Message);
    }
}
