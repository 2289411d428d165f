using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage.Memory;

namespace TypedJobs.Storage.Conformance;

[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class EngineTestJson : JsonSerializerContext;

/// <summary>
/// The engine over this backend, with real workers: a store whose clock is an hour ahead of the engine's, the race of a
/// stale attempt's result against the attempt that replaced it (results on this backend and on another one), and the
/// roles placed on different backends.
/// </summary>
public abstract class EngineTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly JobSerializer<string> Text = JobSerializer.FromJsonTypeInfo(EngineTestJson.Default.String);
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(EngineTestJson.Default.Int32);
    private readonly List<IHost> hosts = [];

    /// <summary>A clock an hour ahead of the real one.</summary>
    private sealed class AheadClock : TimeProvider
    {
        public static readonly TimeSpan Offset = TimeSpan.FromHours(1);

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            using var cts = new CancellationTokenSource(Deadline);
            await host.StopAsync(cts.Token);
            host.Dispose();
        }

        await base.DisposeAsync();
    }

    private async Task<IHost> StartHostAsync(object jobs, Action<TypedJobsBuilder> tasks, Action<WorkerOptions>? worker = null,
        Action<TypedJobsOptions>? options = null, bool startWorker = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(TimeProvider.System);
        var jobsBuilder = builder.Services.AddTypedJobs(o =>
        {
            o.UseStorage(_ => jobs);
            options?.Invoke(o);
        });
        tasks(jobsBuilder);
        if (startWorker)
        {
            jobsBuilder.AddWorker(w =>
            {
                w.PollInterval = TimeSpan.FromMilliseconds(100);
                w.RescueInterval = TimeSpan.FromMilliseconds(200);
                worker?.Invoke(w);
            });
        }

        var host = builder.Build();
        hosts.Add(host);
        await host.StartAsync(Ct);
        return host;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> read, Func<T?, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value!;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}; last seen: {value}");
            }

            await Task.Delay(20, Ct);
        }
    }

    private async Task<object> SkewedStoreAsync() => await Factory.OpenAsync(new AheadClock(), Ct);

    [Fact]
    public async Task StoreClockAhead_DelayedJob_WaitsForItsDelayByTheStoresClock()
    {
        var store = await SkewedStoreAsync();
        var task = JobTask.Create("delayed", Text, static (_, _) => ValueTask.CompletedTask);
        var host = await StartHostAsync(store, b => b.AddTask(task));
        var client = host.Services.GetRequiredService<IJobClient>();

        var id = await client.EnqueueAsync(task, "x", new JobOptions { Delay = TimeSpan.FromSeconds(1) }, Ct);
        var job = await client.WaitForCompletionAsync(id, new CancellationTokenSource(Deadline).Token);

        Assert.Equal(JobState.Succeeded, job.State);
        Assert.True(job.StartedAt - job.CreatedAt >= TimeSpan.FromSeconds(1), $"started {job.StartedAt - job.CreatedAt} after it was created");
        Assert.True(job.CreatedAt > DateTimeOffset.UtcNow + TimeSpan.FromMinutes(30), "the store's clock is an hour ahead");
    }

    [Fact]
    public async Task StoreClockAhead_RunningJob_KeepsALeaseMeasuredByTheStoresClock()
    {
        var store = await SkewedStoreAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = JobTask.Create("long", Text, async (_, _) => await release.Task);
        var lease = TimeSpan.FromSeconds(4);
        var host = await StartHostAsync(store, b => b.AddTask(task), w => w.LeaseDuration = lease);
        var client = host.Services.GetRequiredService<IJobClient>();
        var clock = (IStorageRole)store;

        var id = await client.EnqueueAsync(task, "x", cancellationToken: Ct);
        var claimed = await EventuallyAsync(() => client.GetJobAsync(id, Ct).AsTask(), j => j?.State == JobState.Running, "the job to run");
        var extended = await EventuallyAsync(() => client.GetJobAsync(id, Ct).AsTask(), j => j?.LeaseExpiresAt > claimed.LeaseExpiresAt,
            "a heartbeat to extend the lease");
        var storeNow = await clock.ClockNowAsync(Ct);
        release.SetResult();
        var done = await client.WaitForCompletionAsync(id, new CancellationTokenSource(Deadline).Token);

        Assert.Equal(claimed.StartedAt + lease, claimed.LeaseExpiresAt);
        Assert.True(extended.LeaseExpiresAt <= storeNow + lease && extended.LeaseExpiresAt > storeNow - lease,
            $"lease expiry {extended.LeaseExpiresAt:O} against the store's now {storeNow:O}");
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempt));
    }

    [Fact]
    public async Task StoreClockAhead_ResultsAndSchedules_UseTheStoresClock()
    {
        var store = await SkewedStoreAsync();
        var count = JobTask.Create("count", Text, Number, static (text, _) => ValueTask.FromResult(text.Length));
        var ticks = 0;
        var tick = JobTask.Create("tick", JobSerializer.Empty, (_, _) =>
        {
            Interlocked.Increment(ref ticks);
            return ValueTask.CompletedTask;
        }, new TaskSettings { Interval = TimeSpan.FromSeconds(1) });
        var storeStart = await ((IStorageRole)store).ClockNowAsync(Ct);
        var host = await StartHostAsync(store, b => b.AddTask(count).AddTask(tick));
        var client = host.Services.GetRequiredService<IJobClient>();
        var schedules = host.Services.GetRequiredService<IScheduleAdmin>();

        var handle = await client.EnqueueAsync(count, "four", cancellationToken: Ct);
        var result = await handle.GetResultAsync(new CancellationTokenSource(Deadline).Token);
        var schedule = await EventuallyAsync(() => schedules.GetAsync("tick", Ct).AsTask(), s => s?.LastRunAt is not null, "the schedule to fire");

        Assert.Equal(4, result);
        Assert.True(schedule.LastRunAt >= storeStart - TimeSpan.FromSeconds(1),
            $"the occurrence {schedule.LastRunAt:O} must come from the store's clock (started at {storeStart:O})");
        Assert.True(schedule.NextRunAt > schedule.LastRunAt);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StaleAttemptFinishingLate_NeverReplacesTheResultOfTheAttemptThatReplacedIt(bool resultsElsewhere)
    {
        var store = await Factory.OpenAsync(TimeProvider.System, Ct);
        var results = resultsElsewhere ? new MemoryStorage() : null;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = JobTask.Create("race", Text, Number, async (_, context) =>
        {
            if (context.WorkerId == "stale")
            {
                await gate.Task; // ignores its cancellation token, as a handler busy in a blocking call would
                return 1;
            }

            return 2;
        });
        var blind = new BlindToLostLeases(store);
        var staleResults = results is null ? null : new BlindToLostLeases(results);
        Action<TypedJobsOptions> Placement(object? resultStore) => o =>
        {
            if (resultStore is not null)
            {
                o.UseStorage(_ => resultStore, StorageRoles.Results);
            }
        };

        var staleHost = await StartHostAsync(blind, b => b.AddTask(task), w =>
        {
            w.WorkerId = "stale";
            w.Concurrency = 1;
            w.LeaseDuration = TimeSpan.FromSeconds(4);
        }, Placement(staleResults));
        var client = staleHost.Services.GetRequiredService<IJobClient>();
        var handle = await client.EnqueueAsync(task, "x", cancellationToken: Ct);
        await EventuallyAsync(() => client.GetJobAsync(handle.Id, Ct).AsTask(), j => j is { State: JobState.Running, WorkerId: "stale" },
            "the stale worker to run the job");

        // The stale worker's heartbeats never reach the store: its lease expires, and another worker rescues and re-runs the job.
        await StartHostAsync(store, b => b.AddTask(task), w => w.WorkerId = "fresh", Placement(results));
        var replaced = await EventuallyAsync(() => client.GetJobAsync(handle.Id, Ct).AsTask(), j => j?.State == JobState.Succeeded,
            "the fresh worker to finish the job");
        gate.SetResult();
        await EventuallyAsync(() => Task.FromResult<int?>(blind.RefusedCompletions), n => n > 0, "the stale completion to be refused");

        Assert.Equal(("fresh", 2), (replaced.WorkerId, replaced.Attempt));
        Assert.Equal(2, await handle.GetResultAsync(Ct));
        if (staleResults is not null)
        {
            // The stale attempt did write its result (keyed by its own lease, where nobody reads it) after the fresh one won.
            Assert.Equal(1, staleResults.ResultsWritten);
        }
    }

    [Fact]
    public async Task RolesOnTwoBackends_ResultsAndEventsGoWhereTheyArePlaced()
    {
        var store = await Factory.OpenAsync(TimeProvider.System, Ct);
        var elsewhere = new MemoryStorage();
        var count = JobTask.Create("count", Text, Number, static (text, _) => ValueTask.FromResult(text.Length));
        var host = await StartHostAsync(store, b => b.AddTask(count), options: o =>
        {
            o.RecordEvents = true;
            o.UseStorage(_ => elsewhere, StorageRoles.Results | StorageRoles.Events);
        });
        var client = host.Services.GetRequiredService<IJobClient>();

        var handle = await client.EnqueueAsync(count, "seven!!", cancellationToken: Ct);
        var result = await handle.GetResultAsync(new CancellationTokenSource(Deadline).Token);
        var job = await client.GetJobAsync(handle.Id, Ct);
        var events = await EventuallyAsync(
            async () => (await elsewhere.EventsListAsync(new EventsListParams(handle.Id), Ct)).Events,
            e => e?.Any(x => x.Kind == TypedJobs.Events.JobEventKind.Succeeded) == true, "the events to be recorded elsewhere");

        Assert.Equal(7, result);
        Assert.NotNull((await elsewhere.ResultsGetAsync(new ResultsGetParams(handle.Id, job!.SucceededLeaseToken!.Value), Ct)).Result);
        Assert.Contains(events, e => e.Kind == TypedJobs.Events.JobEventKind.Started);
        if (store is IResultStore local)
        {
            Assert.Null((await local.ResultsGetAsync(new ResultsGetParams(handle.Id, job.SucceededLeaseToken!.Value), Ct)).Result);
        }

        if (store is IEventStore localEvents)
        {
            Assert.Empty((await localEvents.EventsListAsync(new EventsListParams(handle.Id), Ct)).Events);
        }
    }

    /// <summary>A worker's view of the store in which every heartbeat succeeds without reaching it.</summary>
    private sealed class BlindToLostLeases(object inner) : DelegatingStorage(inner)
    {
        private int refused;
        private int resultsWritten;

        public int RefusedCompletions => Volatile.Read(ref refused);

        public int ResultsWritten => Volatile.Read(ref resultsWritten);

        public override ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new LeasesExtendResult([]));

        public override async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
        {
            var result = await base.JobsCompleteAsync(parameters, cancellationToken);
            Interlocked.Add(ref refused, result.Applied.Count(a => !a));
            return result;
        }

        public override ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref resultsWritten, parameters.Results.Count);
            return base.ResultsSetAsync(parameters, cancellationToken);
        }
    }
}
