using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Events;
using TypedJobs.Registration;
using TypedJobs.Storage;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Memory;
using TypedJobs.Storage.Sqlite;

namespace TypedJobs.Faults;

[JsonSerializable(typeof(int))]
internal sealed partial class FaultJson : JsonSerializerContext;

/// <summary>
/// In-process fault scenarios: the store unreachable for twice the lease, completion writes failing for ten seconds, a
/// stale worker racing the rescuer, handlers that ignore cancellation at timeout and at shutdown, a slow event
/// observer, a rolling deploy where some workers do not know a task, a poison payload and an oversized one. Each runs on
/// the backend of the derived class, through a <see cref="FaultyStorage"/>, and is judged by the <see cref="Checker"/>.
/// </summary>
public abstract class EngineFaultTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(FaultJson.Default.Int32);
    private readonly List<IHost> hosts = [];

    protected abstract string StoreName { get; }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Opens the backend (every role), shared by the workers of one scenario.</summary>
    protected abstract object OpenStore();

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            using var cts = new CancellationTokenSource(Deadline);
            try
            {
                await host.StopAsync(cts.Token);
            }
            finally
            {
                host.Dispose();
            }
        }

        GC.SuppressFinalize(this);
    }

    private async Task<IHost> StartAsync(object store, Action<TypedJobsBuilder> tasks, Action<WorkerOptions>? worker = null,
        Action<TypedJobsOptions>? options = null, bool startWorker = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var jobs = builder.Services.AddTypedJobs(o =>
        {
            o.UseStorage(_ => store);
            options?.Invoke(o);
        });
        tasks(jobs);
        if (startWorker)
        {
            jobs.AddWorker(w =>
            {
                w.PollInterval = TimeSpan.FromMilliseconds(100);
                w.RescueInterval = TimeSpan.FromMilliseconds(500);
                w.LeaseDuration = TimeSpan.FromSeconds(4);
                worker?.Invoke(w);
            });
        }

        var host = builder.Build();
        hosts.Add(host);
        await host.StartAsync(Ct);
        return host;
    }

    private static async Task StopAsync(IHost host)
    {
        using var cts = new CancellationTokenSource(Deadline);
        await host.StopAsync(cts.Token);
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(20, Ct);
        }
    }

    private static async Task<Dictionary<JobId, JobState>> StatesAsync(object store, IEnumerable<JobId> ids)
    {
        var admin = (IJobAdminStore)store;
        var states = new Dictionary<JobId, JobState>();
        foreach (var id in ids)
        {
            if ((await admin.JobsGetAsync(new JobsGetParams(id), Ct)).Job is { } job)
            {
                states[id] = job.State;
            }
        }

        return states;
    }

    private static Task UntilFinishedAsync(object store, IReadOnlyCollection<JobId> ids, string what) =>
        UntilAsync(async () => (await StatesAsync(store, ids)).Values.Count(static s => s.IsFinished()) == ids.Count, what);

    [Fact]
    public async Task StoreUnreachableForTwiceTheLease_StopsLocalRuns_AndLosesNothing()
    {
        var store = OpenStore();
        var plan = new FaultPlan();
        var runs = new ConcurrentQueue<JobId>();
        var running = 0;
        var cancelled = 0;
        var blocking = 1;
        var task = JobTask.Create("work", Number, async (_, context) =>
        {
            Interlocked.Increment(ref running);
            try
            {
                // Until the store comes back, attempts outlast the lease: only the worker's own check can stop them.
                if (Volatile.Read(ref blocking) == 1)
                {
                    await Task.Delay(Timeout.Infinite, context.CancellationToken);
                }

                runs.Enqueue(context.JobId);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelled);
                throw;
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }, new TaskSettings { MaxRetries = 50 });
        var host = await StartAsync(new FaultyStorage(store, plan), b => b.AddTask(task), w => w.Concurrency = 4);
        var client = host.Services.GetRequiredService<IJobClient>();
        var jobs = 20 * FaultReport.Scale;
        var acknowledged = await client.EnqueueBatchAsync(task, Enumerable.Range(0, jobs), cancellationToken: Ct);
        await UntilAsync(() => Task.FromResult(Volatile.Read(ref running) > 0), "a job to run");

        // Twice the lease: every lease the worker holds expires in the store while it cannot reach it.
        using (plan.Fail(FaultPlan.All))
        {
            await UntilAsync(() => Task.FromResult(Volatile.Read(ref cancelled) > 0), "the worker to stop runs whose lease it cannot prove");
            await Task.Delay(TimeSpan.FromSeconds(8), Ct);
        }

        Volatile.Write(ref blocking, 0);

        await UntilFinishedAsync(store, acknowledged, "every job to finish after the store came back");

        var check = Checker.Check(acknowledged, acknowledged, runs.ToList(), await StatesAsync(store, acknowledged));
        FaultReport.Record("store unreachable for 2× the lease", StoreName, "nothing lost; local runs stop when the lease is unprovable", jobs, 0, check);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Unexpected);
        Assert.True(check.Duplicates <= 8, check.ToString());
    }

    [Fact]
    public async Task CompletionWritesFailingForTenSeconds_AreRetried_WithoutReRunsOrDeadLetters()
    {
        var store = OpenStore();
        var plan = new FaultPlan();
        var runs = new ConcurrentQueue<JobId>();
        // MaxRetries = 0: a job rescued after its success could not be recorded would be dead-lettered.
        var task = JobTask.Create("once", Number, async (_, context) =>
        {
            await Task.Delay(50, context.CancellationToken);
            runs.Enqueue(context.JobId);
        }, new TaskSettings { MaxRetries = 0 });
        var host = await StartAsync(new FaultyStorage(store, plan), b => b.AddTask(task), w => w.Concurrency = 4);
        var client = host.Services.GetRequiredService<IJobClient>();
        var jobs = 30 * FaultReport.Scale;
        IReadOnlyList<JobId> acknowledged;
        using (plan.Fail(nameof(IJobStore.JobsCompleteAsync), nameof(IResultStore.ResultsSetAsync)))
        {
            acknowledged = await client.EnqueueBatchAsync(task, Enumerable.Range(0, jobs), cancellationToken: Ct);
            await UntilAsync(() => Task.FromResult(!runs.IsEmpty), "a job to run");
            // Longer than twice the lease: only heartbeats keep the leases of the finished, unwritten attempts.
            await Task.Delay(TimeSpan.FromSeconds(10), Ct);
        }

        await UntilFinishedAsync(store, acknowledged, "every job to finish once completions are written again");

        var check = Checker.Check(acknowledged, acknowledged, runs.ToList(), await StatesAsync(store, acknowledged));
        FaultReport.Record("completion writes failing for 10 s", StoreName, "outcomes kept and retried; no re-run, no dead letter", jobs, 0, check);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicates);
    }

    [Fact]
    public async Task StaleWorkerRacingTheRescuer_ItsLateOutcomesAreRefused_AndResultsComeFromTheWinner()
    {
        var store = OpenStore();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new ConcurrentQueue<JobId>();
        var task = JobTask.Create("race", Number, Number, async (n, context) =>
        {
            runs.Enqueue(context.JobId);
            if (context.WorkerId == "stale")
            {
                await gate.Task; // blind to its lost lease, and ignoring cancellation
                return -1;
            }

            return n;
        }, new TaskSettings { MaxRetries = 5 });
        var blind = new BlindToLostLeases(store);
        var stale = await StartAsync(blind, b => b.AddTask(task), w =>
        {
            w.WorkerId = "stale";
            w.Concurrency = 3;
        });
        var client = stale.Services.GetRequiredService<IJobClient>();
        var jobs = 3;
        var handles = new List<JobHandle<int>>();
        for (var i = 0; i < jobs; i++)
        {
            handles.Add(await client.EnqueueAsync(task, i + 1, cancellationToken: Ct));
        }

        await UntilAsync(() => Task.FromResult(runs.Count >= jobs), "the stale worker to hold every job");
        await StartAsync(store, b => b.AddTask(task), w => w.WorkerId = "fresh");
        var acknowledged = handles.Select(static h => h.Id).ToList();
        await UntilFinishedAsync(store, acknowledged, "the fresh worker to finish every job");
        gate.SetResult();
        await UntilAsync(() => Task.FromResult(blind.Refused >= jobs), "the stale outcomes to be refused");

        var results = new List<int>();
        foreach (var handle in handles)
        {
            results.Add(await handle.GetResultAsync(Ct));
        }

        var check = Checker.Check(acknowledged, acknowledged, runs.ToList(), await StatesAsync(store, acknowledged));
        FaultReport.Record("stale worker racing the rescuer", StoreName, "late outcomes refused; results from the attempt that won", jobs, 0, check);
        Assert.Equal(0, check.Lost);
        Assert.Equal(jobs, check.Duplicates);
        Assert.Equal(Enumerable.Range(1, jobs), results);
    }

    [Fact]
    public async Task HandlerIgnoringItsTimeout_IsGivenUp_AndItsSlotRunsOtherJobs()
    {
        var store = OpenStore();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var stubborn = JobTask.Create("stubborn", Number, async (_, _) => await blocked.Task,
                new TaskSettings { Timeout = TimeSpan.FromMilliseconds(300), MaxRetries = 0 });
            var runs = new ConcurrentQueue<JobId>();
            var quick = JobTask.Create("quick", Number, (_, context) =>
            {
                runs.Enqueue(context.JobId);
                return ValueTask.CompletedTask;
            });
            var host = await StartAsync(store, b => b.AddTask(stubborn).AddTask(quick), w =>
            {
                w.Concurrency = 1;
                w.AbandonGrace = TimeSpan.FromMilliseconds(300);
            });
            var client = host.Services.GetRequiredService<IJobClient>();

            var stuck = await client.EnqueueBatchAsync(stubborn, [1, 2], cancellationToken: Ct);
            var rest = await client.EnqueueBatchAsync(quick, [1, 2, 3], new JobOptions { Priority = Priority.Low }, Ct);
            await UntilFinishedAsync(store, [.. stuck, .. rest], "every job to finish while the stubborn handlers still run");

            var states = await StatesAsync(store, [.. stuck, .. rest]);
            var check = Checker.Check(rest, rest, runs.ToList(), states);
            FaultReport.Record("handler ignoring its timeout", StoreName, "given up after the grace: failed as timed out, slot freed", 5, 0, check);
            Assert.False(blocked.Task.IsCompleted);
            Assert.Equal(0, check.Lost);
            foreach (var id in stuck)
            {
                var job = (await ((IJobAdminStore)store).JobsGetAsync(new JobsGetParams(id), Ct)).Job!;
                Assert.Equal(JobState.Dead, job.State);
                Assert.Contains("timed out", job.LastError);
            }
        }
        finally
        {
            blocked.TrySetResult();
        }
    }

    [Fact]
    public async Task HandlerIgnoringShutdown_IsReleasedWithoutUsingAnAttempt_AndShutdownIsBounded()
    {
        var store = OpenStore();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new ConcurrentQueue<JobId>();
        var task = JobTask.Create("deaf", Number, async (_, context) =>
        {
            if (context.WorkerId == "leaving")
            {
                started.TrySetResult();
                await blocked.Task; // ignores the shutdown token
                return;
            }

            runs.Enqueue(context.JobId);
        }, new TaskSettings { MaxRetries = 0 });
        try
        {
            var leaving = await StartAsync(store, b => b.AddTask(task), w =>
            {
                w.WorkerId = "leaving";
                w.ShutdownTimeout = TimeSpan.FromMilliseconds(200);
                w.AbandonGrace = TimeSpan.FromMilliseconds(200);
            });
            var client = leaving.Services.GetRequiredService<IJobClient>();
            var id = await client.EnqueueAsync(task, 1, cancellationToken: Ct);
            await started.Task.WaitAsync(Deadline, Ct);

            var stop = StopAsync(leaving);
            await stop.WaitAsync(Deadline, Ct);
            var released = (await ((IJobAdminStore)store).JobsGetAsync(new JobsGetParams(id), Ct)).Job!;
            await StartAsync(store, b => b.AddTask(task), w => w.WorkerId = "staying");
            await UntilFinishedAsync(store, [id], "another worker to run the released job");

            var check = Checker.Check([id], [id], runs.ToList(), await StatesAsync(store, [id]));
            FaultReport.Record("handler ignoring shutdown", StoreName, "released after the grace without using an attempt", 1, 0, check);
            Assert.Equal((JobState.Ready, 0), (released.State, released.Attempt));
            Assert.Equal(0, check.Lost);
        }
        finally
        {
            blocked.TrySetResult();
        }
    }

    [Fact]
    public async Task SlowEventObserver_CostsDroppedEvents_NeverJobsOrMemory()
    {
        var store = OpenStore();
        var observer = new SlowObserver();
        var runs = new ConcurrentQueue<JobId>();
        var taskName = "noisy-" + StoreName;
        long dropped = 0;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "TypedJobs" && instrument.Name == "typedjobs.events.dropped")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "typedjobs.task" && Equals(tag.Value, taskName))
                {
                    Interlocked.Add(ref dropped, value);
                }
            }
        });
        meters.Start();
        var task = JobTask.Create(taskName, Number, (_, context) =>
        {
            runs.Enqueue(context.JobId);
            return ValueTask.CompletedTask;
        });
        var host = await StartAsync(store, b => b.AddTask(task).AddObserver(observer), w => w.Concurrency = 8, o => o.EventBufferSize = 50);
        var client = host.Services.GetRequiredService<IJobClient>();
        var jobs = 400 * FaultReport.Scale;

        var acknowledged = await client.EnqueueBatchAsync(task, Enumerable.Range(0, jobs), cancellationToken: Ct);
        await UntilFinishedAsync(store, acknowledged, "every job to finish despite the slow observer");

        var check = Checker.Check(acknowledged, acknowledged, runs.ToList(), await StatesAsync(store, acknowledged));
        FaultReport.Record("slow event observer", StoreName, "bounded event buffer; drops counted, jobs unaffected", jobs, 0, check);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicates);
        Assert.True(Interlocked.Read(ref dropped) > 0, "No drop was counted in typedjobs.events.dropped: the buffer never filled.");
        Assert.True(observer.Seen < jobs * 3, $"{observer.Seen} events were delivered: none were dropped.");
    }

    [Fact]
    public async Task RollingDeploy_AWorkerThatDoesNotKnowATask_HandsItsJobsBack_WithoutDeadLetteringThem()
    {
        var store = OpenStore();
        var runs = new ConcurrentQueue<JobId>();
        var snoozes = new SlowObserver(TimeSpan.Zero);
        var task = JobTask.Create("new-task", Number, async (_, context) =>
        {
            await Task.Delay(20, context.CancellationToken);
            runs.Enqueue(context.JobId);
        }, new TaskSettings { MaxRetries = 0 });
        var other = JobTask.Create("old-task", Number, static (_, _) => ValueTask.CompletedTask);
        // The old worker knows only the old task; the new one knows the new task and takes its jobs slowly.
        await StartAsync(store, b => b.AddTask(other).AddObserver(snoozes), w =>
        {
            w.WorkerId = "old";
            w.Concurrency = 8;
        }, o => o.UnknownTaskRetryDelay = TimeSpan.FromMilliseconds(200));
        var current = await StartAsync(store, b => b.AddTask(task), w =>
        {
            w.WorkerId = "new";
            w.Concurrency = 1;
        });
        var client = current.Services.GetRequiredService<IJobClient>();
        var jobs = 60 * FaultReport.Scale;

        var acknowledged = await client.EnqueueBatchAsync(task, Enumerable.Range(0, jobs), cancellationToken: Ct);
        await UntilFinishedAsync(store, acknowledged, "the worker that knows the task to run every job");

        var check = Checker.Check(acknowledged, acknowledged, runs.ToList(), await StatesAsync(store, acknowledged));
        FaultReport.Record("rolling deploy, task unknown to some workers", StoreName, "handed back without an attempt; none dead-lettered", jobs, 0, check);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicates);
        Assert.True(snoozes.Snoozed > 0, "The old worker never claimed a job of the new task: the scenario did not happen.");
    }

    [Fact]
    public async Task PoisonPayload_FailsOnlyItsJob_AndAnOversizedOneIsRefusedAtEnqueue()
    {
        var store = OpenStore();
        var runs = new ConcurrentQueue<JobId>();
        var task = JobTask.Create("typed", Number, (_, context) =>
        {
            runs.Enqueue(context.JobId);
            return ValueTask.CompletedTask;
        });
        var host = await StartAsync(store, b => b.AddTask(task), options: o => o.MaxPayloadBytes = 1024);
        var client = host.Services.GetRequiredService<IJobClient>();
        var poison = JobId.New();

        await ((IJobStore)store).JobsInsertAsync(new JobsInsertParams([
            new JobInsert { Id = poison, TaskName = "typed", Queue = "default", Payload = "{not json"u8.ToArray(), MaxRetries = 5 },
        ]), Ct);
        var good = await client.EnqueueBatchAsync(task, Enumerable.Range(0, 20), cancellationToken: Ct);
        var oversized = await Assert.ThrowsAsync<PayloadTooLargeException>(async () =>
            await client.EnqueueSerializedAsync("typed", new byte[4096], cancellationToken: Ct));
        await UntilFinishedAsync(store, [poison, .. good], "every job to finish");

        var states = await StatesAsync(store, [poison, .. good]);
        var check = Checker.Check([poison, .. good], [poison, .. good], runs.ToList(), states, id => id == poison ? JobState.Dead : JobState.Succeeded);
        FaultReport.Record("poison and oversized payloads", StoreName, "poison dead at once with its error; oversized refused at enqueue", 22, 0, check);
        Assert.Equal(0, check.Lost);
        var dead = (await ((IJobAdminStore)store).JobsGetAsync(new JobsGetParams(poison), Ct)).Job!;
        Assert.Equal(1, dead.Attempt);
        Assert.Contains("payload", dead.LastError, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(4096, oversized.Size);
        Assert.Equal(21, (await ((IJobAdminStore)store).JobsCountAsync(new JobsCountParams(new JobFilter()), Ct)).Count);
    }

    /// <summary>A worker's view of the store in which every heartbeat succeeds without reaching it.</summary>
    private sealed class BlindToLostLeases(object inner) : DelegatingStorage(inner)
    {
        private int refused;

        public int Refused => Volatile.Read(ref refused);

        public override ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new LeasesExtendResult([]));

        public override async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
        {
            var result = await base.JobsCompleteAsync(parameters, cancellationToken);
            Interlocked.Add(ref refused, result.Applied.Count(static a => !a));
            return result;
        }
    }

    private sealed class SlowObserver(TimeSpan? pause = null) : IJobEventObserver
    {
        private int seen;
        private int snoozed;

        public int Seen => Volatile.Read(ref seen);

        public int Snoozed => Volatile.Read(ref snoozed);

        public async ValueTask OnEventAsync(JobEvent jobEvent, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref seen);
            if (jobEvent.Kind == JobEventKind.Snoozed)
            {
                Interlocked.Increment(ref snoozed);
            }

            var wait = pause ?? TimeSpan.FromMilliseconds(20);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
        }
    }
}

/// <summary>The in-process scenarios on the in-memory store (process kills mean nothing for it).</summary>
public sealed class MemoryEngineFaultTests : EngineFaultTests
{
    protected override string StoreName => "memory";

    protected override object OpenStore() => new MemoryStorage();
}

/// <summary>The in-process scenarios on a SQLite file.</summary>
public sealed class SqliteEngineFaultTests : EngineFaultTests
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "typedjobs-faults-" + Guid.NewGuid().ToString("N"));
    private readonly List<IDisposable> stores = [];

    protected override string StoreName => "SQLite";

    protected override object OpenStore()
    {
        Directory.CreateDirectory(directory);
        var store = StorageProviders.Open($"sqlite://{Path.Combine(directory, "jobs.db")}?busy_timeout=1000", extra: [new SqliteStorageProvider()]);
        stores.Add((IDisposable)store);
        return store;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var store in stores)
        {
            store.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
