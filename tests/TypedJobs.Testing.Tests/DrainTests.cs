using Microsoft.Extensions.DependencyInjection;
using Shop;

namespace TypedJobs.Testing.Tests;

public sealed class DrainTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Drain_RunsWhatIsDue_ButNotWhatIsDelayed_UntilTimeMoves()
    {
        await using var kit = await Kits.StartAsync();
        var mailbox = kit.Services.GetRequiredService<Mailbox>();
        await kit.Client.EnqueueSendWelcomeAsync("now@b.c", "Now", cancellationToken: Ct);
        await kit.Client.EnqueueSendWelcomeAsync("later@b.c", "Later", new JobOptions { Delay = TimeSpan.FromHours(2) }, Ct);
        var start = kit.Time.GetUtcNow();

        var first = await kit.DrainAsync(Ct);
        var run = Assert.Single(first);
        Assert.Equal(JobRunOutcome.Succeeded, run.Outcome);
        Assert.Equal("now@b.c", run.GetArguments<EmailTasksJobClientExtensions.SendWelcomeArguments>().To);
        Assert.Equal(["Welcome Now <now@b.c>"], mailbox.Sent);
        Assert.Equal(start, kit.Time.GetUtcNow());

        // The hourly report (a cron task of the same application) runs as the clock passes the hour; the mail waits.
        Assert.Empty((await kit.DrainAsync(TimeSpan.FromMinutes(90), Ct)).Of<EmailTasksJobClientExtensions.SendWelcomeArguments>());
        Assert.Equal(start + TimeSpan.FromMinutes(90), kit.Time.GetUtcNow());

        var second = await kit.DrainAsync(TimeSpan.FromMinutes(150), Ct);
        var later = Assert.Single(second.Of<EmailTasksJobClientExtensions.SendWelcomeArguments>());
        Assert.Equal(start + TimeSpan.FromHours(2), later.StartedAt);
        Assert.Equal(start + TimeSpan.FromHours(4), second.EndedAt);
        Assert.Equal(["Welcome Now <now@b.c>", "Welcome Later <later@b.c>"], mailbox.Sent);
    }

    [Fact]
    public async Task Drain_AdvancesOverTheBackoff_UntilTheRetrySucceeds()
    {
        var calls = new Calls { FailFirst = 2 };
        await using var kit = await Kits.StartAsync(calls);
        var id = await kit.Client.EnqueueChargeAsync(42, 9.99m, cancellationToken: Ct);

        // Without moving the clock only the first attempt runs; its retry waits for the backoff.
        var now = await kit.DrainAsync(Ct);
        var failed = Assert.Single(now);
        Assert.Equal(JobRunOutcome.Retrying, failed.Outcome);
        Assert.Contains("declined for order 42", failed.Error, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(failed.Exception);
        Assert.True(failed.RetryDelay > TimeSpan.Zero, "a retry waits for its backoff");

        var later = (await kit.DrainAsync(TimeSpan.FromHours(1), Ct)).Of<BillingJobClientExtensions.ChargeArguments>();
        Assert.Equal([(2, JobRunOutcome.Retrying), (3, JobRunOutcome.Succeeded)], later.Select(r => (r.Attempt, r.Outcome)));
        Assert.Equal(later[0].StartedAt + later[0].RetryDelay!.Value, later[1].StartedAt);
        Assert.Equal(3, calls.Count);
        Assert.Equal(JobState.Succeeded, (await kit.Client.GetJobAsync(id, Ct))!.State);
    }

    [Fact]
    public async Task Drain_DeadLettersWhenAttemptsRunOut()
    {
        var calls = new Calls { FailFirst = int.MaxValue };
        await using var kit = await Kits.StartAsync(calls);
        var id = await kit.Client.EnqueueChargeAsync(7, 1m, cancellationToken: Ct);

        var runs = (await kit.DrainAsync(TimeSpan.FromDays(1), Ct)).Of<BillingJobClientExtensions.ChargeArguments>();
        Assert.Equal([JobRunOutcome.Retrying, JobRunOutcome.Retrying, JobRunOutcome.Retrying, JobRunOutcome.Dead], runs.Select(r => r.Outcome));
        Assert.Equal([1, 2, 3, 4], runs.Select(r => r.Attempt));
        Assert.Equal(JobState.Dead, (await kit.Client.GetJobAsync(id, Ct))!.State);
    }

    [Fact]
    public async Task Drain_OverADay_FiresAnHourlyCronTwentyFourTimes()
    {
        await using var kit = await Kits.StartAsync();
        var ticks = kit.Services.GetRequiredService<Ticks>();
        var start = kit.Time.GetUtcNow();

        var runs = await kit.DrainAsync(TimeSpan.FromDays(1), Ct);
        var hourly = runs.Of<ReportsJobClientExtensions.HourlyArguments>();
        Assert.Equal(24, hourly.Count);
        Assert.All(hourly, r => Assert.Equal(JobRunOutcome.Succeeded, r.Outcome));
        Assert.Equal(Enumerable.Range(1, 24).Select(h => start + TimeSpan.FromHours(h)), hourly.Select(r => r.StartedAt));
        Assert.Equal(24, ticks.Count);
        Assert.Equal(start + TimeSpan.FromDays(1), kit.Time.GetUtcNow());
    }

    [Fact]
    public async Task Drain_RunsTheJobsAHandlerEnqueues_AndReturnsResults()
    {
        await using var kit = await Kits.StartAsync();
        await kit.Client.EnqueuePlaceOrderAsync(5, cancellationToken: Ct);
        await kit.Client.EnqueueAddAsync(20, 22, cancellationToken: Ct);

        var runs = await kit.DrainAsync(Ct);
        Assert.Equal(3, runs.Count);
        Assert.All(runs, r => Assert.Equal(JobRunOutcome.Succeeded, r.Outcome));
        Assert.Equal(42, runs.Of<MathTasksJobClientExtensions.AddArguments>().Single().GetResult<int>());
        Assert.Equal(5, runs.Of<BillingJobClientExtensions.ChargeArguments>().Single().GetArguments<BillingJobClientExtensions.ChargeArguments>().OrderId);
        Assert.Throws<InvalidOperationException>(() => runs.Of<BillingJobClientExtensions.ChargeArguments>().Single().GetResult<int>());
        await kit.AssertEnqueuedAsync(new BillingJobClientExtensions.ChargeArguments(5, 10m), cancellationToken: Ct);
    }

    [Fact]
    public async Task APoisonPayload_FailsItsJob_WithoutBlockingTheOthers()
    {
        await using var kit = await Kits.StartAsync();
        var poison = await EnqueueAssertionTests.StoreRawAsync(kit, MathTasksJobClientExtensions.AddArguments.TaskName, "{\"a\":");
        await kit.Client.EnqueueAddAsync(1, 2, cancellationToken: Ct);

        var runs = await kit.DrainAsync(Ct);
        Assert.Equal(2, runs.Count);
        Assert.Equal(JobRunOutcome.Dead, runs.Single(r => r.Id == poison).Outcome);
        Assert.Equal(3, runs.Single(r => r.Id != poison).GetResult<int>());
    }

    [Fact]
    public async Task APausedQueue_IsLeftAlone_AndTheClockStandsAtTheEnd()
    {
        await using var kit = await Kits.StartAsync();
        await kit.Client.EnqueueSendWelcomeAsync("a@b.c", "Ada", cancellationToken: Ct);
        await kit.Admin.PauseQueueAsync("emails", Ct);
        var start = kit.Time.GetUtcNow();

        var runs = await kit.DrainAsync(TimeSpan.FromMinutes(30), Ct);
        Assert.Empty(runs.Of<EmailTasksJobClientExtensions.SendWelcomeArguments>());
        Assert.Equal(start + TimeSpan.FromMinutes(30), kit.Time.GetUtcNow());

        await kit.Admin.ResumeQueueAsync("emails", Ct);
        Assert.Single((await kit.DrainAsync(Ct)).Of<EmailTasksJobClientExtensions.SendWelcomeArguments>());
    }

    [Fact]
    public async Task Drain_StopsWithAClearError_AfterMaxRuns()
    {
        await using var kit = await Kits.StartAsync();
        kit.MaxRunsPerDrain = 3;
        await kit.Client.EnqueueAddBatchAsync([(1, 1), (2, 2), (3, 3), (4, 4)], cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => kit.DrainAsync(Ct));
        Assert.Contains("MaxRunsPerDrain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunHandler_GivesTheTestTheAttemptCancellationAndProgress()
    {
        await using var kit = await Kits.StartAsync();
        var heard = new List<double>();
        var run = await kit.RunHandlerAsync(new MathTasksJobClientExtensions.CountArguments(4),
            new HandlerRunOptions { Attempt = 3, OnProgress = (value, _) => heard.Add(value) });
        Assert.Equal(3, run.GetResult<int>());
        Assert.Equal([0.25, 0.5, 0.75, 1.0], run.Progress.Select(p => p.Value));
        Assert.Equal("step 4", run.Progress[^1].Message);
        Assert.Equal([0.25, 0.5, 0.75, 1.0], heard);
        Assert.Equal(3, run.Context.Attempt);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            kit.RunHandlerAsync(new MathTasksJobClientExtensions.CountArguments(4), new HandlerRunOptions { CancellationToken = cancelled.Token }));

        // Running a handler stores nothing.
        await kit.AssertNothingEnqueuedAsync(Ct);
    }
}
