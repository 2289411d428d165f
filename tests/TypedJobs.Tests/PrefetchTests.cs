using System.Collections.Concurrent;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

/// <summary>
/// A busy worker holds claimed jobs ahead of its slots (<see cref="WorkerOptions.PrefetchWindow"/>): they run only when
/// a slot frees, never beyond the concurrency, each once; shutdown returns them without using an attempt; a cancelled
/// one never runs. <see cref="Timeout.InfiniteTimeSpan"/> makes the worker always hold <see cref="WorkerOptions.Concurrency"/>
/// jobs ahead, so these tests do not depend on the measured rate.
/// </summary>
public sealed class PrefetchTests
{
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

        var ids = new List<JobId>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await host.Client.EnqueueAsync(task, new TestPayload($"job-{i}")));
        }

        // Two run; two more are claimed and held (leased, so the store shows them running); the rest wait in the queue.
        await Eventually.TrueAsync(async () => runs.Count == 2 && await CountRunningAsync(host, ids) == 4, "two running and two held");
        Assert.Equal(2, runs.Count);

        gate.SetResult();
        foreach (var id in ids)
        {
            await host.WaitForStateAsync(id, JobState.Succeeded);
        }

        Assert.Equal(8, runs.Count);
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

        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await host.Client.EnqueueAsync(task, new TestPayload($"job-{i}")));
        }

        await Eventually.TrueAsync(async () => Volatile.Read(ref started) == 1 && await CountRunningAsync(host, ids) == 2, "one running and one held");
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
