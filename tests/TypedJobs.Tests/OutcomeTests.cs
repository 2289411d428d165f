using TypedJobs.Engine;
using TypedJobs.Storage;

namespace TypedJobs.Tests;

/// <summary>
/// An <see cref="Outcome"/> keeps its completion's fields once and rebuilds the completion when written: every transition
/// comes back as the completion it was made from, and what events, logs and the testing kit read (error, delay, failed,
/// a result for a separate results store) is read from those same fields.
/// </summary>
public class OutcomeTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    private static readonly byte[] Result = [42];

    private static JobRecord Claimed(int attempt = 1, int maxRetries = 3, DateTimeOffset? unknownSince = null) => new()
    {
        Id = JobId.Parse("0193a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"),
        TaskName = "task",
        Queue = "default",
        Payload = [1],
        State = JobState.Running,
        Attempt = attempt,
        MaxRetries = maxRetries,
        CreatedAt = At,
        DueAt = At,
        StartedAt = At,
        LeaseToken = Guid.Parse("11111111-2222-3333-4444-555555555555"),
        WorkerId = "w1",
        UnknownTaskSince = unknownSince,
    };

    public static TheoryData<string> Transitions() =>
        ["succeeded", "succeeded with result", "retry", "dead", "snooze", "negative snooze", "release", "unknown task, snoozed", "unknown task, dead"];

    [Theory]
    [MemberData(nameof(Transitions))]
    public void Completion_IsTheOneItWasMadeFrom_AndErrorDelayAndFailedAreItsOwn(string transition)
    {
        var job = transition switch
        {
            "dead" => Claimed(attempt: 4),
            "unknown task, dead" => Claimed(unknownSince: At.AddHours(-1)),
            _ => Claimed(),
        };
        var (kind, completion) = transition switch
        {
            "succeeded" => (AttemptOutcome.Succeeded, JobTransitions.Succeeded(job, null, TimeSpan.FromHours(1))),
            "succeeded with result" => (AttemptOutcome.Succeeded, JobTransitions.Succeeded(job, Result, TimeSpan.FromHours(1))),
            "retry" or "dead" => JobTransitions.Failed(job, "boom", permanent: false, TimeSpan.FromSeconds(3)),
            "snooze" => (AttemptOutcome.Snooze, JobTransitions.Snooze(job, TimeSpan.FromSeconds(7))),
            "negative snooze" => (AttemptOutcome.Snooze, JobTransitions.Snooze(job, TimeSpan.FromSeconds(-7))),
            "release" => (AttemptOutcome.Release, JobTransitions.Release(job)),
            "unknown task, snoozed" or "unknown task, dead" => JobTransitions.UnknownTask(job, "w1", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(11)),
            _ => throw new ArgumentOutOfRangeException(nameof(transition)),
        };
        Assert.Equal(transition is "dead" or "unknown task, dead", completion.TargetState == JobState.Dead);

        var outcome = new Outcome(job, kind, completion, task: null);

        Assert.Equal(completion, outcome.Completion);
        Assert.Equal(kind, outcome.Kind);
        Assert.Equal(completion.Error, outcome.Error);
        Assert.Equal(completion.Failed, outcome.Failed);
        Assert.Equal(completion.Delay ?? TimeSpan.Zero, outcome.Delay);
        Assert.Null(outcome.Result); // a result in the completion is written with it, not to a results store
    }

    [Fact]
    public void SeparateResult_IsForTheResultsStore_AndNotInTheCompletion()
    {
        var job = Claimed();
        var completion = JobTransitions.Succeeded(job, null, TimeSpan.FromHours(1));

        var outcome = new Outcome(job, AttemptOutcome.Succeeded, completion, task: null, separateResult: Result, separateResultTtl: TimeSpan.FromHours(2));

        Assert.Same(Result, outcome.Result);
        Assert.Equal(TimeSpan.FromHours(2), outcome.ResultTtl);
        Assert.Null(outcome.Completion.Result);
        Assert.Equal(TimeSpan.Zero, outcome.Completion.ResultTtl);
        Assert.Equal(completion, outcome.Completion);
    }

    [Fact]
    public void Retry_CarriesItsBackoffAndError_ForTheRetriedEvent()
    {
        var (kind, completion) = JobTransitions.Failed(Claimed(), "boom", permanent: false, TimeSpan.FromSeconds(3));

        var outcome = new Outcome(Claimed(), kind, completion, task: null);

        Assert.Equal(AttemptOutcome.Retry, outcome.Kind);
        Assert.Equal(TimeSpan.FromSeconds(3), outcome.Delay);
        Assert.Equal("boom", outcome.Error);
        Assert.True(outcome.Failed);
    }
}
