using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Registration;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

// The attribute must bind as [Task] even though System.Threading.Tasks (with its Task type) is imported here.
public static class AttributeUsageSample
{
    [Task(Queue = "attribute-check", MaxRetries = 3, Timeout = "00:01:00")]
    public static Task Run(string value) => Task.CompletedTask;
}

public class EngineBasicsTests
{
    [Fact]
    public void TaskAttribute_BindsAsTask_NextToSystemThreadingTasks()
    {
        var method = typeof(AttributeUsageSample).GetMethod(nameof(AttributeUsageSample.Run))!;
        var attribute = Assert.Single(method.GetCustomAttributes(typeof(TaskAttribute), false));
        Assert.Equal("attribute-check", ((TaskAttribute)attribute).Queue);
        Assert.Equal(3, ((TaskAttribute)attribute).MaxRetries);
    }

    [Fact]
    public async Task EnqueuedJob_RunsAndSucceeds_WithResult()
    {
        var doubled = JobTask.Create("double", TestHost.IntSerializer, TestHost.IntSerializer,
            (n, _) => ValueTask.FromResult(n * 2));
        await using var host = await TestHost.StartAsync(b => b.AddTask(doubled));

        var handle = await host.Client.EnqueueAsync(doubled, 21);
        var result = await handle.GetResultAsync();

        Assert.Equal(42, result);
        var job = await host.Client.GetJobAsync(handle.Id);
        Assert.Equal(JobState.Succeeded, job!.State);
        Assert.Equal(1, job.Attempt);
    }

    [Fact]
    public async Task Handler_GetsPayloadContextAndScopedServices()
    {
        JobContext? seen = null;
        TestPayload? payload = null;
        var task = Tasks.Create("context", (p, ctx) =>
        {
            payload = p;
            seen = ctx;
            return ValueTask.CompletedTask;
        }, new TaskSettings { Queue = "ctx", Priority = Priority.High });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w => w.Queues = ["ctx"]);

        var id = await host.Client.EnqueueAsync(task, new TestPayload("ann", 7));
        await host.WaitForStateAsync(id, JobState.Succeeded);

        Assert.Equal(new TestPayload("ann", 7), payload);
        Assert.Equal(id, seen!.JobId);
        Assert.Equal("context", seen.TaskName);
        Assert.Equal("ctx", seen.Queue);
        Assert.Equal(Priority.High, seen.Priority);
        Assert.Equal(1, seen.Attempt);
        Assert.Equal("test-worker", seen.WorkerId);
        Assert.NotNull(seen.Services);
    }

    [Fact]
    public async Task Handler_Services_AreOneScopePerAttempt_CreatedOnUse_DisposedAfter()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<(ScopedProbe First, ScopedProbe Second, bool DisposedInside)>();
        var task = Tasks.Create("scoped", (_, ctx) =>
        {
            var first = ctx.Services.GetRequiredService<ScopedProbe>();
            var second = ctx.Services.GetRequiredService<ScopedProbe>();
            seen.Add((first, second, first.Disposed));
            return ValueTask.CompletedTask;
        }, new TaskSettings { Queue = "scoped" });
        JobContext? leaked = null;
        var plain = Tasks.Create("no-services", (_, ctx) =>
        {
            leaked = ctx;
            return ValueTask.CompletedTask;
        }, new TaskSettings { Queue = "scoped" });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task).AddTask(plain), w => w.Queues = ["scoped"],
            host: h => h.Services.AddScoped<ScopedProbe>());

        var a = await host.Client.EnqueueAsync(task, new TestPayload("a", 1));
        var b = await host.Client.EnqueueAsync(task, new TestPayload("b", 2));
        var c = await host.Client.EnqueueAsync(plain, new TestPayload("c", 3));
        await host.WaitForStateAsync(a, JobState.Succeeded);
        await host.WaitForStateAsync(b, JobState.Succeeded);
        await host.WaitForStateAsync(c, JobState.Succeeded);

        var runs = seen.ToArray();
        Assert.Equal(2, runs.Length);
        Assert.All(runs, r => Assert.Same(r.First, r.Second));
        Assert.All(runs, r => Assert.False(r.DisposedInside));
        Assert.NotSame(runs[0].First, runs[1].First);
        // The scope ends with the attempt: what it created is disposed, and a context kept past its attempt resolves nothing.
        Assert.All(runs, r => Assert.True(r.First.Disposed));
        Assert.Throws<ObjectDisposedException>(() => leaked!.Services.GetService(typeof(ScopedProbe)));
    }

    private sealed class ScopedProbe : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task DelayedJob_WaitsForItsDueTime()
    {
        var ran = 0;
        var task = Tasks.Create("delayed", (_, _) =>
        {
            Interlocked.Increment(ref ran);
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Delay = TimeSpan.FromMinutes(5) });
        var job = await host.Client.GetJobAsync(id);
        Assert.Equal(JobState.Scheduled, job!.State);
        Assert.Equal(host.Time.GetUtcNow() + TimeSpan.FromMinutes(5), job.DueAt);

        host.Time.Advance(TimeSpan.FromMinutes(4));
        await Task.Delay(50);
        Assert.Equal(0, ran);
        Assert.Equal(JobState.Scheduled, (await host.Client.GetJobAsync(id))!.State);

        host.Time.Advance(TimeSpan.FromMinutes(1));
        await host.WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal(1, ran);
    }

    [Fact]
    public async Task BatchEnqueue_InsertsAllAndRunsThem()
    {
        var sum = 0;
        var task = Tasks.Create("batch", (p, _) =>
        {
            Interlocked.Add(ref sum, p.Number);
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var ids = await host.Client.EnqueueBatchAsync(task, Enumerable.Range(1, 100).Select(i => new TestPayload("b", i)));

        Assert.Equal(100, ids.Distinct().Count());
        foreach (var id in ids)
        {
            await host.WaitForStateAsync(id, JobState.Succeeded);
        }

        Assert.Equal(5050, sum);
    }

    [Fact]
    public async Task OversizedPayload_IsRefusedAtEnqueue_AndNothingIsStored()
    {
        var task = Tasks.Create("big", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), options: o => o.MaxPayloadBytes = 100);

        var ex = await Assert.ThrowsAsync<PayloadTooLargeException>(async () =>
            await host.Client.EnqueueAsync(task, new TestPayload(new string('x', 200))));

        Assert.Equal("big", ex.TaskName);
        Assert.Equal(100, ex.Limit);
        Assert.Contains("MaxPayloadBytes", ex.Message);
        Assert.Equal(0, host.Storage.Count);
    }

    [Fact]
    public async Task InvalidQueueName_IsRefusedAtEnqueue()
    {
        var task = Tasks.Create("q", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Queue = "bad queue!" }));
        Assert.Contains("not a valid queue name", ex.Message);
    }

    [Fact]
    public async Task PriorityOutsideTheFourLevels_IsRefusedAtEnqueue_AndNothingIsStored()
    {
        var task = Tasks.Create("p", (_, _) => ValueTask.CompletedTask);
        var fromSettings = Tasks.Create("ps", (_, _) => ValueTask.CompletedTask, new TaskSettings { Priority = (Priority)(-1) });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task).AddTask(fromSettings));

        var high = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Priority = (Priority)7 }));
        var low = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await host.Client.EnqueueAsync(fromSettings, new TestPayload("x")));
        var critical = await host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Priority = Priority.Critical });

        Assert.Contains("Priority 7 is not one of Low (0), Normal (1), High (2) or Critical (3)", high.Message);
        Assert.Contains("Priority -1", low.Message);
        Assert.Equal(Priority.Critical, (await host.Client.GetJobAsync(critical))!.Priority);
        Assert.Equal(1, host.Storage.Count);
    }
}
