using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

/// <summary>
/// A busy worker holds claimed jobs ahead of its slots (<see cref="WorkerOptions.PrefetchWindow"/>): they run only when
/// a slot frees, never beyond the concurrency, each once; shutdown returns them without using an attempt; a cancelled
/// one never runs; none starts while running attempts plus unwritten outcomes reach twice the concurrency.
/// <see cref="Timeout.InfiniteTimeSpan"/> makes the worker always hold four times <see cref="WorkerOptions.Concurrency"/>
/// jobs ahead, so these tests do not depend on the measured rate.
/// </summary>
public sealed class PrefetchTests
{
    private static async Task<List<JobId>> EnqueueAsync(TestHost host, Registration.JobTask<TestPayload> task, int count)
    {
        var ids = new List<JobId>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await host.Client.EnqueueAsync(task, new TestPayload($"job-{i}")));
        }

        return ids;
    }

    private static async Task AllSucceededAsync(TestHost host, IEnumerable<JobId> ids)
    {
        foreach (var id in ids)
        {
            await host.WaitForStateAsync(id, JobState.Succeeded);
        }
    }

    private static async Task<int> CountRunningAsync(TestHost host, IEnumerable<JobId> ids)
    {
        var running = 0;
        foreach (var id in ids)
        {
            if ((await host.Client.GetJobAsync(id))?.State == JobState.Running)
            {
                running++;
            }
        }

        return running;
    }

    [Fact]
    public async Task HeldJobs_StartAsSlotsFree_NeverBeyondTheConcurrency_EachOnce()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new ConcurrentDictionary<string, int>();
        var current = 0;
        var most = 0;
        var task = Tasks.Create("held", async (p, _) =>
        {
            runs.AddOrUpdate(p.Name, 1, static (_, n) => n + 1);
            var now = Interlocked.Increment(ref current);
            InterlockedMax(ref most, now);
            await gate.Task;
            Interlocked.Decrement(ref current);
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.Concurrency = 2;
            w.PrefetchWindow = Timeout.InfiniteTimeSpan;
        });

        var ids = await EnqueueAsync(host, task, 12);

        // Two run; eight more are claimed and held (leased, so the store shows them running); the rest wait in the queue.
        await Eventually.TrueAsync(async () => runs.Count == 2 && await CountRunningAsync(host, ids) == 10, "two running and eight held");
        Assert.Equal(2, runs.Count);

        gate.SetResult();
        await AllSucceededAsync(host, ids);

        Assert.Equal(12, runs.Count);
        Assert.All(runs.Values, n => Assert.Equal(1, n));
        Assert.True(most <= 2, $"{most} attempts ran at once with a concurrency of 2");
    }

    [Fact]
    public async Task Shutdown_ReturnsHeldJobsToTheirQueue_WithoutUsingAnAttempt()
    {
        var started = 0;
        var task = Tasks.Create("held-at-shutdown", async (_, ctx) =>
        {
            Interlocked.Increment(ref started);
            await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken);
        });
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var storage = new MemoryStorage(time);
        var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.Concurrency = 1;
            w.PrefetchWindow = Timeout.InfiniteTimeSpan;
            w.ShutdownTimeout = TimeSpan.FromSeconds(5);
        }, time: time, storage: storage);

        var ids = await EnqueueAsync(host, task, 6);

        await Eventually.TrueAsync(async () => Volatile.Read(ref started) == 1 && await CountRunningAsync(host, ids) == 5, "one running and four held");
        await host.DisposeAsync();

        Assert.Equal(1, Volatile.Read(ref started));
        foreach (var id in ids)
        {
            var job = (await storage.JobsGetAsync(new JobsGetParams(id), default)).Job!;
            Assert.Equal(JobState.Ready, job.State);
            Assert.Equal(0, job.Attempt);
            Assert.Null(job.LeaseToken);
        }
    }

    [Fact]
    public async Task CancelledWhileHeld_NeverRuns_AndTheNextJobTakesTheSlot()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new ConcurrentQueue<string>();
        var task = Tasks.Create("cancel-held", async (p, _) =>
        {
            runs.Enqueue(p.Name);
            if (p.Name == "first")
            {
                await gate.Task;
            }
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.Concurrency = 1;
            w.PrefetchWindow = Timeout.InfiniteTimeSpan;
        });

        var first = await host.Client.EnqueueAsync(task, new TestPayload("first"));
        var held = await host.Client.EnqueueAsync(task, new TestPayload("held"));
        await Eventually.TrueAsync(async () => runs.Count == 1 && await CountRunningAsync(host, [first, held]) == 2, "one running and one held");

        Assert.True(await host.Client.CancelAsync(held));
        var third = await host.Client.EnqueueAsync(task, new TestPayload("third"));
        gate.SetResult();

        await host.WaitForStateAsync(first, JobState.Succeeded);
        await host.WaitForStateAsync(third, JobState.Succeeded);
        Assert.Equal(JobState.Cancelled, (await host.Client.GetJobAsync(held))!.State);
        Assert.Equal(["first", "third"], runs.ToArray());
    }

    [Fact]
    public async Task HeldJobs_WaitWhileRunningPlusUnwrittenOutcomesReachTwiceTheConcurrency_ThenRunEachOnce()
    {
        // Completions are held back: every outcome stays unwritten until the test lets the store take them.
        var inner = new MemoryStorage();
        var store = new HeldCompletions(inner);
        var runs = new ConcurrentDictionary<string, int>();
        var task = Tasks.Create("bounded", (p, _) =>
        {
            runs.AddOrUpdate(p.Name, 1, static (_, n) => n + 1);
            return ValueTask.CompletedTask;
        });
        var started = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.Concurrency = 2;
            w.PrefetchWindow = Timeout.InfiniteTimeSpan;
        }, storage: inner, host: h => h.Services.Configure<TypedJobsOptions>(o => o.UseStorage(_ => store)));
        await using var host = started;

        var ids = await EnqueueAsync(host, task, 10);

        // Concurrency 2: at most 4 attempts may be run-or-unwritten at once. The jobs finish at once, so exactly 4 run and
        // the other 6 stay held (leased) while no outcome is written.
        await Eventually.TrueAsync(() => Task.FromResult(runs.Count == 4), "four jobs ran");
        await Eventually.TrueAsync(async () => await CountRunningAsync(host, ids) == 10, "every job leased");
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(4, runs.Count);

        store.Release();
        await AllSucceededAsync(host, ids);

        Assert.Equal(10, runs.Count);
        Assert.All(runs.Values, n => Assert.Equal(1, n));
    }

    private sealed class HeldCompletions(MemoryStorage inner) : Storage.Conformance.DelegatingStorage(inner)
    {
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => released.TrySetResult();

        public override async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
        {
            await released.Task.WaitAsync(cancellationToken);
            return await base.JobsCompleteAsync(parameters, cancellationToken);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var before = Interlocked.CompareExchange(ref target, value, seen);
            if (before == seen)
            {
                return;
            }

            seen = before;
        }
    }
}
