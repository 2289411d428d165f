using TypedJobs.Storage;

namespace TypedJobs.Tests;

/// <summary>
/// <see cref="JobRecord"/> keeps its rarely set fields apart (allocated only when one holds a value); these prove it is
/// still a plain value-equal record whatever way it was built.
/// </summary>
public class JobRecordTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    // One array for every record built here: a record compares its payload by reference.
    private static readonly byte[] Payload = [1, 2];

    private static JobRecord Claimed() => new()
    {
        Id = JobId.Parse("0193a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"),
        TaskName = "task",
        Queue = "default",
        Payload = Payload,
        State = JobState.Running,
        Attempt = 1,
        CreatedAt = At,
        DueAt = At,
        StartedAt = At,
        LeaseToken = Guid.Parse("11111111-2222-3333-4444-555555555555"),
        WorkerId = "w1",
    };

    [Fact]
    public void EveryRarelySetField_ReadsBackWhatWasSet()
    {
        var token = Guid.NewGuid();
        var record = Claimed() with
        {
            FinishedAt = At.AddSeconds(1),
            SucceededLeaseToken = token,
            UniqueKey = "key",
            LastError = "boom",
            UnknownTaskSince = At.AddSeconds(2),
            Progress = 0.5,
            ProgressMessage = "half",
        };

        Assert.Equal(At.AddSeconds(1), record.FinishedAt);
        Assert.Equal(token, record.SucceededLeaseToken);
        Assert.Equal("key", record.UniqueKey);
        Assert.Equal("boom", record.LastError);
        Assert.Equal(At.AddSeconds(2), record.UnknownTaskSince);
        Assert.Equal(0.5, record.Progress);
        Assert.Equal("half", record.ProgressMessage);
        Assert.Contains("LastError = boom", record.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExplicitNulls_AndFieldsClearedAgain_CompareEqualToNeverSet()
    {
        var plain = Claimed();
        var explicitNulls = Claimed() with { LastError = null, FinishedAt = null, Progress = null, UniqueKey = null };
        var clearedAgain = (Claimed() with { LastError = "boom", Progress = 0.25 }) with { LastError = null, Progress = null };

        Assert.Equal(plain, explicitNulls);
        Assert.Equal(plain, clearedAgain);
        Assert.Equal(plain.GetHashCode(), explicitNulls.GetHashCode());
        Assert.Equal(plain.GetHashCode(), clearedAgain.GetHashCode());
        Assert.Null(clearedAgain.LastError);
    }

    [Fact]
    public void With_LeavesTheOriginalUnchanged_AndEqualityComparesTheRarelySetFields()
    {
        var failed = Claimed() with { LastError = "first", Progress = 0.5 };
        var changed = failed with { LastError = "second" };

        Assert.Equal("first", failed.LastError);
        Assert.Equal(0.5, failed.Progress);
        Assert.Equal("second", changed.LastError);
        Assert.Equal(0.5, changed.Progress);
        Assert.NotEqual(failed, changed);
        Assert.Equal(failed, Claimed() with { Progress = 0.5, LastError = "first" });
        Assert.NotEqual(Claimed(), failed);
    }

    [Fact]
    public void Instants_ReadBackAsTheSameInstantInUtc_AndUnsetOnesStayUnset()
    {
        var local = new DateTimeOffset(2026, 12, 4, 12, 30, 0, TimeSpan.FromHours(2));
        var record = Claimed() with { CreatedAt = local, DueAt = local.AddSeconds(1), StartedAt = local.AddSeconds(2), LeaseExpiresAt = local.AddSeconds(3) };

        Assert.Equal(local, record.CreatedAt);
        Assert.Equal(TimeSpan.Zero, record.CreatedAt.Offset);
        Assert.Equal(local.UtcDateTime.AddSeconds(1), record.DueAt.UtcDateTime);
        Assert.Equal(local.AddSeconds(2), record.StartedAt);
        Assert.Equal(local.AddSeconds(3), record.LeaseExpiresAt);
        Assert.Equal(record, Claimed() with { CreatedAt = local.ToUniversalTime(), DueAt = local.AddSeconds(1), StartedAt = local.AddSeconds(2), LeaseExpiresAt = local.AddSeconds(3) });

        var waiting = new JobRecord { Id = JobId.New(), TaskName = "task", Queue = "default", Payload = Payload };
        Assert.Null(waiting.StartedAt);
        Assert.Null(waiting.LeaseExpiresAt);
        Assert.Equal(default, waiting.CreatedAt);
        Assert.Equal(DateTimeOffset.MinValue, (waiting with { StartedAt = DateTimeOffset.MinValue }).StartedAt);
        Assert.Null((record with { StartedAt = null }).StartedAt);
    }
}
