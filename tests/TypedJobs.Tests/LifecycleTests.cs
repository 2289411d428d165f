using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Registration;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

public class LifecycleTests
{
    private static JobTask<TestPayload> Blocking(string name, TaskCompletionSource started, TaskCompletionSource<bool> observedCancel,
        TaskSettings? settings = null) =>
        Tasks.Create(name, async (_, ctx) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                observedCancel.TrySetResult(true);
                throw;
            }
        }, settings);

    [Fact]
    public async Task CancellingARunningJob_FiresItsToken_AndEndsCancelled()
    {
        var started = new TaskCompletionSource();
        var observed = new TaskCompletionSource<bool>();
        var task = Blocking("cancel-me", started, observed, new TaskSettings { MaxRetries = 5 });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(await host.Client.CancelAsync(id));
        Assert.True(await observed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        var job = await host.Client.WaitForCompletionAsync(id).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal(1, job.Attempt);
        await Assert.ThrowsAsync<JobCancelledException>(async () => await host.Client.GetResultAsync(id, TestHost.IntSerializer));
        // The worker's own outcome was discarded: the job stays cancelled, not retried.
        await Task.Delay(50);
        Assert.Equal(JobState.Cancelled, (await host.Client.GetJobAsync(id))!.State);
        Assert.False(await host.Client.CancelAsync(id));
    }

    [Fact]
    public async Task CancellingARunningJob_BeforeItsHandlerReadsTheToken_GivesItATokenAlreadyCancelled()
    {
        // The attempt creates its cancellation source only when the token is first asked for: a stop that came earlier
        // must still reach the handler.
        var started = new TaskCompletionSource();
        var proceed = new TaskCompletionSource();
        var observed = new TaskCompletionSource<bool>();
        var task = Tasks.Create("cancel-before-token", async (_, context) =>
        {
            started.TrySetResult();
            await proceed.Task;
            observed.TrySetResult(context.CancellationToken.IsCancellationRequested);
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await host.Client.CancelAsync(id)); // stops the local attempt before it returns
        proceed.SetResult();

        Assert.True(await observed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        var job = await host.Client.WaitForCompletionAsync(id).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(JobState.Cancelled, job.State);
    }

    [Fact]
    public async Task CancellingAWaitingJob_KeepsItFromRunning()
    {
        var ran = false;
        var task = Tasks.Create("never", (_, _) =>
        {
            ran = true;
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Delay = TimeSpan.FromMinutes(1) });
        Assert.True(await host.Client.CancelAsync(id));
        host.Time.Advance(TimeSpan.FromMinutes(2));
        await Task.Delay(50);

        Assert.False(ran);
        Assert.Equal(JobState.Cancelled, (await host.Client.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task LeaseLostElsewhere_IsNoticedAtHeartbeat_AndStopsTheLocalRun()
    {
        var started = new TaskCompletionSource();
        var observed = new TaskCompletionSource<bool>();
        var task = Blocking("lease-lost", started, observed);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.LeaseDuration = TimeSpan.FromSeconds(30);
            w.HeartbeatInterval = TimeSpan.FromSeconds(10);
        });

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // Another process cancels through the store directly (no in-process signal reaches this worker).
        await host.Storage.JobsCancelAsync(new JobsCancelParams(new JobRef(id, "default")), default);
        Assert.False(observed.Task.IsCompleted);

        // Let time pass (heartbeat every 10 s) until the worker notices.
        await Eventually.TrueAsync(() => observed.Task.IsCompleted, "the local run to be cancelled",
            tick: () => host.Time.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(JobState.Cancelled, (await host.Client.GetJobAsync(id))!.State);

        // The stopped run's outcome is dropped unwritten, and the worker lets go of the lost lease (it kept it for good).
        var worker = host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<TypedJobs.Engine.JobWorker>().Single();
        await Eventually.TrueAsync(() => worker.Leases.Count == 0, "the lost lease to be let go");
    }

    [Fact]
    public async Task Heartbeat_ExtendsLeases_SoLongJobsAreNotRescued()
    {
        var started = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var task = Tasks.Create("long", async (_, _) =>
        {
            started.TrySetResult();
            await release.Task;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.LeaseDuration = TimeSpan.FromSeconds(60);
            w.HeartbeatInterval = TimeSpan.FromSeconds(10);
            w.RescueInterval = TimeSpan.FromSeconds(5);
        });

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // 90 s pass, longer than the lease: only heartbeats keep the job from being rescued.
        for (var i = 0; i < 18; i++)
        {
            host.Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(10);
        }

        var job = (await host.Client.GetJobAsync(id))!;
        Assert.Equal(JobState.Running, job.State);
        Assert.True(job.LeaseExpiresAt > host.Time.GetUtcNow());
        Assert.Equal(1, job.Attempt);
        release.SetResult();
        await host.WaitForStateAsync(id, JobState.Succeeded);
    }

    [Fact]
    public async Task Shutdown_ReturnsUnfinishedJobsToReady_WithoutConsumingAnAttempt()
    {
        var started = new TaskCompletionSource();
        var observed = new TaskCompletionSource<bool>();
        var task = Blocking("interrupted", started, observed);
        var time = new FakeTimeProvider();
        var storage = new MemoryStorage(time);
        var host = await TestHost.StartAsync(b => b.AddTask(task), w => w.ShutdownTimeout = TimeSpan.FromSeconds(5), time: time, storage: storage);

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await host.DisposeAsync();

        Assert.True(observed.Task.IsCompleted);
        var job = (await storage.JobsGetAsync(new JobsGetParams(id), default)).Job!;
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Null(job.LeaseToken);
    }

    [Fact]
    public async Task Shutdown_LetsRunningJobsFinishWithinTheTimeout()
    {
        var started = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var task = Tasks.Create("finishes", async (_, _) =>
        {
            started.TrySetResult();
            await release.Task;
        });
        var time = new FakeTimeProvider();
        var storage = new MemoryStorage(time);
        var host = await TestHost.StartAsync(b => b.AddTask(task), w => w.ShutdownTimeout = TimeSpan.FromMinutes(5), time: time, storage: storage);

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stop = host.Host.StopAsync();
        await Task.Delay(50);
        Assert.False(stop.IsCompleted);
        release.SetResult();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        host.Host.Dispose();

        Assert.Equal(JobState.Succeeded, (await storage.JobsGetAsync(new JobsGetParams(id), default)).Job!.State);
    }

    [Fact]
    public async Task DisposingTheHostWithoutStopping_EndsTheWorkerCleanly()
    {
        var task = Tasks.Create("dispose", (_, _) => ValueTask.CompletedTask);
        var time = new FakeTimeProvider();
        var host = await TestHost.StartAsync(b => b.AddTask(task), time: time);
        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await host.WaitForStateAsync(id, JobState.Succeeded);
        var worker = host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>()
            .OfType<Microsoft.Extensions.Hosting.BackgroundService>()
            .Single(s => s.GetType().Name == "JobWorker");

        host.Host.Dispose();
        await Eventually.TrueAsync(() => worker.ExecuteTask!.IsCompleted, "the worker to end", tick: () => time.Advance(TimeSpan.FromSeconds(1)));

        Assert.False(worker.ExecuteTask!.IsFaulted, worker.ExecuteTask.Exception?.ToString());
    }

    [Fact]
    public async Task PausedQueue_IsNotClaimed_UntilResumed()
    {
        var ran = 0;
        var task = Tasks.Create("pausable", (_, _) =>
        {
            Interlocked.Increment(ref ran);
            return ValueTask.CompletedTask;
        }, new TaskSettings { Queue = "mail" });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w => w.Queues = ["mail"]);

        await host.Admin.PauseQueueAsync("mail");
        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        host.Time.Advance(TimeSpan.FromSeconds(5));
        await Task.Delay(50);
        Assert.Equal(0, ran);
        var queue = Assert.Single(await host.Admin.GetQueuesAsync());
        Assert.True(queue.Paused);
        Assert.Equal(1, queue.Length);

        await host.Admin.ResumeQueueAsync("mail");
        await host.WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal(1, ran);
    }

    [Fact]
    public async Task UniqueKey_DeduplicatesConcurrentEnqueues()
    {
        var task = Tasks.Create("unique", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), startWorker: false);

        var ids = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
            await host.Client.EnqueueAsync(task, new TestPayload("p" + i), new JobOptions { UniqueKey = "report:42" }))));

        Assert.Single(ids.Distinct());
        Assert.Equal(1, host.Storage.Count);
    }

    [Fact]
    public async Task UniqueKey_OnABatchOfMoreThanOneJob_IsRefused_AndNothingIsEnqueued()
    {
        var task = Tasks.Create("unique-batch", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), startWorker: false);
        var options = new JobOptions { UniqueKey = "report:42" };

        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Client.EnqueueBatchAsync(task, [new TestPayload("a"), new TestPayload("b")], options));
        var single = await host.Client.EnqueueBatchAsync(task, [new TestPayload("c")], options);

        Assert.Contains("names one job, but the batch has 2", error.Message);
        Assert.Single(single);
        Assert.Equal(1, host.Storage.Count);
    }

    [Fact]
    public async Task UniqueKey_IsReleasedWhenTheJobFinishes_UnlessKeptUntilPruned()
    {
        var task = Tasks.Create("unique-release", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var first = await host.Client.EnqueueAsync(task, new TestPayload("a"), new JobOptions { UniqueKey = "k" });
        await host.WaitForStateAsync(first, JobState.Succeeded);
        var second = await host.Client.EnqueueAsync(task, new TestPayload("a"), new JobOptions { UniqueKey = "k" });
        Assert.NotEqual(first, second);

        var kept = await host.Client.EnqueueAsync(task, new TestPayload("a"), new JobOptions { UniqueKey = "kept", UniqueUntilPruned = true });
        await host.WaitForStateAsync(kept, JobState.Succeeded);
        var again = await host.Client.EnqueueAsync(task, new TestPayload("a"), new JobOptions { UniqueKey = "kept", UniqueUntilPruned = true });
        Assert.Equal(kept, again);
    }

    [Fact]
    public async Task UniqueByPayload_DeduplicatesIdenticalPayloadsOnly()
    {
        var task = Tasks.Create("unique-payload", (_, _) => ValueTask.CompletedTask, new TaskSettings { UniqueByPayload = true });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), startWorker: false);

        var a1 = await host.Client.EnqueueAsync(task, new TestPayload("a"));
        var a2 = await host.Client.EnqueueAsync(task, new TestPayload("a"));
        var b = await host.Client.EnqueueAsync(task, new TestPayload("b"));

        Assert.Equal(a1, a2);
        Assert.NotEqual(a1, b);
    }

    [Fact]
    public async Task MaxConcurrency_LimitsOneTask_WhileOthersRun()
    {
        var running = 0;
        var peak = 0;
        var gate = new TaskCompletionSource();
        var limited = Tasks.Create("limited", async (_, _) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            await gate.Task;
            Interlocked.Decrement(ref running);
        }, new TaskSettings { MaxConcurrency = 2 });
        var other = Tasks.Create("free", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(limited).AddTask(other), w => w.Concurrency = 10);

        var ids = await host.Client.EnqueueBatchAsync(limited, Enumerable.Range(0, 6).Select(i => new TestPayload("l", i)));
        var free = await host.Client.EnqueueAsync(other, new TestPayload("f"));
        await host.WaitForStateAsync(free, JobState.Succeeded);
        await Eventually.TrueAsync(() => Volatile.Read(ref running) == 2, "two limited jobs running");
        await Task.Delay(50);
        Assert.Equal(2, Volatile.Read(ref running));

        gate.SetResult();
        foreach (var id in ids)
        {
            await host.WaitForStateAsync(id, JobState.Succeeded);
        }

        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task QueueConcurrency_CapsOneQueue()
    {
        var running = 0;
        var peak = 0;
        var gate = new TaskCompletionSource();
        var task = Tasks.Create("queue-capped", async (_, _) =>
        {
            InterlockedMax(ref peak, Interlocked.Increment(ref running));
            await gate.Task;
            Interlocked.Decrement(ref running);
        }, new TaskSettings { Queue = "slow" });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.Queues = ["default", "slow"];
            w.Concurrency = 8;
            w.QueueConcurrency["slow"] = 3;
        });

        var ids = await host.Client.EnqueueBatchAsync(task, Enumerable.Range(0, 8).Select(i => new TestPayload("s", i)));
        await Eventually.TrueAsync(() => Volatile.Read(ref running) == 3, "three running");
        await Task.Delay(50);
        Assert.Equal(3, Volatile.Read(ref running));
        gate.SetResult();
        foreach (var id in ids)
        {
            await host.WaitForStateAsync(id, JobState.Succeeded);
        }

        Assert.Equal(3, peak);
    }

    [Fact]
    public async Task Results_ExpireAfterTheirRetention()
    {
        var task = JobTask.Create("short-lived", TestHost.IntSerializer, TestHost.IntSerializer, (n, _) => ValueTask.FromResult(n + 1),
            new TaskSettings { ResultRetention = TimeSpan.FromMinutes(10) });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var handle = await host.Client.EnqueueAsync(task, 1);
        Assert.Equal(2, await handle.GetResultAsync());

        host.Time.Advance(TimeSpan.FromMinutes(11));
        var attempt = (await host.Client.GetJobAsync(handle.Id))!.SucceededLeaseToken!.Value;
        Assert.Null((await host.Storage.ResultsGetAsync(new ResultsGetParams(handle.Id, attempt), default)).Result);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await handle.GetResultAsync());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
