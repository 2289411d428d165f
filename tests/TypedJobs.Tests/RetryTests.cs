using TypedJobs.Engine;
using TypedJobs.Registration;
using TypedJobs.Storage;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

public class RetryTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    [InlineData(6, 64)]
    [InlineData(10, 600)]
    [InlineData(40, 600)]
    public void Backoff_GrowsExponentially_WithJitterBelowTheCap(int attempt, double expectedSeconds)
    {
        var baseDelay = TimeSpan.FromSeconds(2);
        var cap = TimeSpan.FromMinutes(10);
        var noJitter = RetryBackoff.Delay(attempt, baseDelay, cap, random: 0);
        var fullJitter = RetryBackoff.Delay(attempt, baseDelay, cap, random: 1);

        Assert.Equal(expectedSeconds, noJitter.TotalSeconds, 3);
        Assert.Equal(expectedSeconds * (1 - RetryBackoff.Jitter), fullJitter.TotalSeconds, 3);
        for (var i = 0; i < 200; i++)
        {
            var d = RetryBackoff.Delay(attempt, baseDelay, cap, Random.Shared.NextDouble());
            Assert.InRange(d, fullJitter, noJitter);
            Assert.True(d <= cap);
        }
    }

    [Fact]
    public async Task FailingJob_IsRetriedWithBackoff_ThenDeadAfterMaxRetries()
    {
        var attempts = new List<int>();
        var task = Tasks.Create("always-fails", (_, ctx) =>
        {
            lock (attempts)
            {
                attempts.Add(ctx.Attempt);
            }

            throw new InvalidOperationException("boom " + ctx.Attempt);
        }, new TaskSettings { MaxRetries = 2, RetryDelay = TimeSpan.FromSeconds(10), MaxRetryDelay = TimeSpan.FromMinutes(1) });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));

        var afterFirst = await host.WaitForStateAsync(id, JobState.Scheduled);
        Assert.Equal(1, afterFirst.Attempt);
        Assert.Contains("boom 1", afterFirst.LastError);
        var wait = afterFirst.DueAt - host.Time.GetUtcNow();
        Assert.InRange(wait, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10));

        host.Time.Advance(TimeSpan.FromSeconds(10));
        var afterSecond = await host.WaitForStateAsync(id, JobState.Scheduled, () => { });
        await Eventually.TrueAsync(async () => (await host.Client.GetJobAsync(id))!.Attempt == 2, "second attempt");
        afterSecond = (await host.Client.GetJobAsync(id))!;
        Assert.Equal(JobState.Scheduled, afterSecond.State);
        Assert.InRange(afterSecond.DueAt - host.Time.GetUtcNow(), TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(20));

        host.Time.Advance(TimeSpan.FromSeconds(20));
        var dead = await host.WaitForStateAsync(id, JobState.Dead);

        Assert.Equal(3, dead.Attempt);
        Assert.Contains("boom 3", dead.LastError);
        Assert.Equal([1, 2, 3], attempts);
        var error = await Assert.ThrowsAsync<JobFailedException>(async () => await host.Client.GetResultAsync(id, TestHost.IntSerializer));
        Assert.Contains("boom 3", error.Message);
    }

    [Fact]
    public async Task PermanentFailure_DeadLettersAtOnce()
    {
        var task = Tasks.Create("permanent", (_, _) => throw new PermanentJobFailureException("customer deleted"),
            new TaskSettings { MaxRetries = 5 });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        var dead = await host.WaitForStateAsync(id, JobState.Dead);

        Assert.Equal(1, dead.Attempt);
        Assert.Contains("customer deleted", dead.LastError);
    }

    [Fact]
    public async Task Snooze_PostponesWithoutConsumingAnAttempt()
    {
        var calls = 0;
        var task = Tasks.Create("snoozer", (_, ctx) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new SnoozeJobException(TimeSpan.FromMinutes(3));
            }

            return ValueTask.CompletedTask;
        }, new TaskSettings { MaxRetries = 0 });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        var snoozed = await host.WaitForStateAsync(id, JobState.Scheduled);
        Assert.Equal(0, snoozed.Attempt);
        Assert.Equal(host.Time.GetUtcNow() + TimeSpan.FromMinutes(3), snoozed.DueAt);

        host.Time.Advance(TimeSpan.FromMinutes(3));
        var done = await host.WaitForStateAsync(id, JobState.Succeeded);

        // MaxRetries = 0 allows one attempt: the snooze did not use it.
        Assert.Equal(1, done.Attempt);
    }

    [Fact]
    public async Task Timeout_CancelsTheHandler_AndCountsAsAFailedAttempt()
    {
        var cancelled = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var task = Tasks.Create("slow", async (_, ctx) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }
        }, new TaskSettings { Timeout = TimeSpan.FromSeconds(30), MaxRetries = 1, RetryDelay = TimeSpan.FromMinutes(1) });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w => w.LeaseDuration = TimeSpan.FromMinutes(10));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        // The timeout timer is armed before the handler starts.
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        host.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(cancelled.Task.IsCompleted);

        host.Time.Advance(TimeSpan.FromSeconds(1));
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var failed = await host.WaitForStateAsync(id, JobState.Scheduled);

        Assert.Equal(1, failed.Attempt);
        Assert.Contains("timed out", failed.LastError);
    }

    [Fact]
    public async Task PoisonPayload_FailsOnlyItsJob_AndOthersRun()
    {
        var ran = 0;
        var task = Tasks.Create("typed", (_, _) =>
        {
            Interlocked.Increment(ref ran);
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var poison = JobId.New();
        await host.Storage.JobsInsertAsync(new JobsInsertParams([
            new JobInsert { Id = poison, TaskName = "typed", Queue = "default", Payload = "{\"Name\": 12, oops"u8.ToArray(), MaxRetries = 5 },
        ]), default);
        var good = await host.Client.EnqueueAsync(task, new TestPayload("fine"));

        var dead = await host.WaitForStateAsync(poison, JobState.Dead);
        await host.WaitForStateAsync(good, JobState.Succeeded);

        Assert.Equal(1, dead.Attempt);
        Assert.Contains("payload of task 'typed' could not be read", dead.LastError);
        Assert.Equal(1, ran);
    }

    [Fact]
    public async Task UnknownTaskName_WaitsWithoutUsingAttempts_ThenIsDeadAfterTheGracePeriod_NamingTheTask()
    {
        await using var host = await TestHost.StartAsync(_ => { }, options: o =>
        {
            o.UnknownTaskGracePeriod = TimeSpan.FromMinutes(2);
            o.UnknownTaskRetryDelay = TimeSpan.FromSeconds(30);
        });

        var id = JobId.New();
        await host.Storage.JobsInsertAsync(new JobsInsertParams([
            new JobInsert { Id = id, TaskName = "System.IO.File, mscorlib", Queue = "default", Payload = "{}"u8.ToArray(), MaxRetries = 0 },
        ]), default);

        // A rolling deploy: no worker knows the task yet. The job goes back without using its only attempt.
        var waiting = await host.WaitForStateAsync(id, JobState.Scheduled);
        Assert.Equal(0, waiting.Attempt);
        Assert.NotNull(waiting.UnknownTaskSince);
        Assert.Contains("'System.IO.File, mscorlib' is not registered in worker 'test-worker'", waiting.LastError);

        var dead = await host.WaitForStateAsync(id, JobState.Dead, tick: () => host.Time.Advance(TimeSpan.FromSeconds(5)));
        Assert.Contains("knows the task 'System.IO.File, mscorlib'", dead.LastError);
        Assert.True(dead.StartedAt - waiting.UnknownTaskSince >= TimeSpan.FromMinutes(2));
    }
}
