using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Engine;
using TypedJobs.Registration;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

/// <summary>
/// Faults in user code (cancellation callbacks, scoped services, metrics listeners) and in the store (failing progress
/// writes, maintenance passes, heartbeats in flight at shutdown) that must not crash the process, change an outcome that
/// was decided, leak a slot, keep a run going past its provable lease, or spin a background loop.
/// </summary>
public sealed class FaultIsolationTests
{
    [Fact]
    public async Task ACancellationCallbackThatThrows_AtTheTimeout_DoesNotEscapeTheTimer_AndTheAttemptTimesOut()
    {
        var started = new TaskCompletionSource();
        var task = Tasks.Create("callback-throws-at-timeout", async (_, ctx) =>
        {
            using var registration = ctx.CancellationToken.Register(static () => throw new InvalidOperationException("a callback that throws"));
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
        }, new TaskSettings { Timeout = TimeSpan.FromSeconds(30), MaxRetries = 1, RetryDelay = TimeSpan.FromMinutes(1) });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w => w.LeaseDuration = TimeSpan.FromMinutes(10));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The fake clock runs timer callbacks on the caller, so an exception out of the timeout's timer would come out
        // of Advance here (on the system clock it is an unhandled exception on a thread-pool thread: the process ends).
        host.Time.Advance(TimeSpan.FromSeconds(30));

        var failed = await host.WaitForStateAsync(id, JobState.Scheduled);
        Assert.Equal(1, failed.Attempt);
        Assert.Contains("timed out", failed.LastError);
    }

    [Fact]
    public async Task ACancellationCallbackThatThrows_WhenTheJobIsCancelled_StillStopsTheHandler_AndTheCancelSucceeds()
    {
        var started = new TaskCompletionSource();
        var stopped = new TaskCompletionSource();
        var task = Tasks.Create("callback-throws-at-cancel", async (_, ctx) =>
        {
            using var registration = ctx.CancellationToken.Register(static () => throw new InvalidOperationException("a callback that throws"));
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                stopped.TrySetResult();
                throw;
            }
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(await host.Client.CancelAsync(id));
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(JobState.Cancelled, (await host.WaitForStateAsync(id, JobState.Cancelled)).State);
    }

    [Fact]
    public async Task AHandlerThatIgnoresItsCancel_IsStillGivenUpAtItsTimeout_SoItsSlotIsFreed()
    {
        var stuck = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var task = Tasks.Create("ignores-its-cancel", async (payload, _) =>
        {
            if (payload.Name == "stuck")
            {
                started.TrySetResult();
                await stuck.Task;
            }
        }, new TaskSettings { Timeout = TimeSpan.FromSeconds(10) });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), w =>
        {
            w.Concurrency = 1;
            w.AbandonGrace = TimeSpan.FromSeconds(5);
            w.LeaseDuration = TimeSpan.FromMinutes(10);
        });
        try
        {
            var stuckId = await host.Client.EnqueueAsync(task, new TestPayload("stuck"));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(await host.Client.CancelAsync(stuckId));
            var next = await host.Client.EnqueueAsync(task, new TestPayload("next"));

            // The one slot is held by a handler that ignores the cancel. Once its timeout (10 s) and the grace (5 s) have
            // passed it is given up — it was cancelled first, which used to keep the timeout from giving it up at all.
            var done = await host.WaitForStateAsync(next, JobState.Succeeded, tick: () => host.Time.Advance(TimeSpan.FromSeconds(1)));
            Assert.Equal(1, done.Attempt);
            Assert.Equal(JobState.Cancelled, (await host.Client.GetJobAsync(stuckId))!.State);
        }
        finally
        {
            stuck.TrySetResult();
        }
    }

    [Fact]
    public async Task AProgressWriteThatHangs_DoesNotKeepTheWorkerFromStoppingARunWhoseLeaseItCannotProve()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new LeaseWritesHang(new MemoryStorage(time));
        var started = new TaskCompletionSource();
        var stopped = new TaskCompletionSource();
        var task = Tasks.Create("reports-progress", async (_, ctx) =>
        {
            started.TrySetResult();
            try
            {
                while (true)
                {
                    await ctx.ReportProgressAsync(0.5, "working");
                    await Task.Delay(5, ctx.CancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
                stopped.TrySetResult();
                throw;
            }
        });
        var host = await StartAsync(store, time, b => b.AddTask(task).AddWorker(w => w.LeaseDuration = TimeSpan.FromSeconds(30)));

        await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        store.Hanging = true;

        // Neither a heartbeat nor a progress write gets an answer (the store is unreachable): the worker must still stop
        // the run once its lease may have expired, although a progress write is in flight all along.
        await Eventually.TrueAsync(() => stopped.Task.IsCompleted, "the run whose lease cannot be proven to be stopped",
            tick: () => time.Advance(TimeSpan.FromSeconds(1)));
        Assert.True(store.ProgressCalls > 0, "a progress write was in flight");
        await StopAsync(host, time);
    }

    [Fact]
    public async Task AMaintenancePassThatFails_AfterAPruneThatRanOutOfTime_WaitsForTheNextInterval_InsteadOfSpinning()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new PruneThenFail(new MemoryStorage(time), time);
        var host = await StartAsync(store, time, b => b.AddWorker());

        // The first pass prunes a full batch past its time budget (so the next pass would start at once); from then on
        // every store call of maintenance fails. Without an interval between failing passes it calls the store in a loop.
        time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => store.FailedRescues > 0, "a maintenance pass to fail after the long prune",
            tick: () => time.Advance(TimeSpan.FromSeconds(1)));
        var failed = store.FailedRescues;
        await Task.Delay(500);

        // The clock has not moved since: no further pass is due.
        Assert.Equal(failed, store.FailedRescues);
        await StopAsync(host, time);
    }

    [Fact]
    public async Task AScopedServiceWhoseDisposalThrows_DoesNotChangeHowTheHandlerEnded()
    {
        var task = Tasks.Create("disposal-throws", (payload, ctx) =>
        {
            _ = ctx.Services.GetRequiredService<ThrowsOnDispose>();
            return payload.Name == "snooze" ? throw new SnoozeJobException(TimeSpan.FromMinutes(3)) : ValueTask.CompletedTask;
        }, new TaskSettings { MaxRetries = 0 });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), host: b => b.Services.AddScoped<ThrowsOnDispose>());

        var succeeds = await host.Client.EnqueueAsync(task, new TestPayload("succeed"));
        var snoozes = await host.Client.EnqueueAsync(task, new TestPayload("snooze"));

        // A success stays a success (its work is done and must not run again); a snooze stays a snooze (no attempt used).
        Assert.Equal(1, (await host.WaitForStateAsync(succeeds, JobState.Succeeded)).Attempt);
        var snoozed = await host.WaitForStateAsync(snoozes, JobState.Scheduled);
        Assert.Equal(0, snoozed.Attempt);
        Assert.Equal(host.Time.GetUtcNow() + TimeSpan.FromMinutes(3), snoozed.DueAt);
    }

    [Fact]
    public async Task AMetricsListenerThatThrows_DoesNotLoseTheDecidedOutcome()
    {
        var task = Tasks.Create("listener-throws", (_, _) => ValueTask.CompletedTask, new TaskSettings { MaxRetries = 0 });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This host's meter only: other tests run in parallel in this process.
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name == "typedjobs.job.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => throw new InvalidOperationException("a listener that throws"));
        listener.Start();

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));

        Assert.Equal(1, (await host.WaitForStateAsync(id, JobState.Succeeded)).Attempt);
    }

    [Fact]
    public async Task DelaysAndRetentionsLongerThanAStoreCanHold_AreCappedAtMaxDelay_AndTheWorkerGoesOn()
    {
        var snoozes = Tasks.Create("snoozes-forever", (_, _) => throw new SnoozeJobException(TimeSpan.MaxValue));
        var fails = Tasks.Create("fails-with-a-huge-backoff", (_, _) => throw new InvalidOperationException("fails"),
            new TaskSettings { MaxRetries = 5, RetryDelay = TimeSpan.MaxValue, MaxRetryDelay = TimeSpan.MaxValue });
        var keeps = JobTask.Create("keeps-its-result-forever", TestHost.PayloadSerializer, TestHost.IntSerializer, (p, _) => ValueTask.FromResult(p.Number),
            new TaskSettings { ResultRetention = TimeSpan.MaxValue });
        var plain = Tasks.Create("plain", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(snoozes).AddTask(fails).AddTask(keeps).AddTask(plain));
        var now = host.Time.GetUtcNow();

        var snoozed = await host.Client.EnqueueAsync(snoozes, new TestPayload("x"));
        var failed = await host.Client.EnqueueAsync(fails, new TestPayload("x"));
        var kept = await host.Client.EnqueueAsync(keeps, new TestPayload("x", 42));
        var after = await host.Client.EnqueueAsync(plain, new TestPayload("x"));

        // Without the cap, adding these to the store's clock overflows: the completion can never be written, and the
        // writer retries it for as long as the worker runs.
        Assert.Equal(now + StorageRules.MaxDelay, (await host.WaitForStateAsync(snoozed, JobState.Scheduled)).DueAt);
        var retrying = await host.WaitForStateAsync(failed, JobState.Scheduled);
        Assert.InRange(retrying.DueAt, now + TimeSpan.FromDays(365), now + StorageRules.MaxDelay);
        await host.WaitForStateAsync(kept, JobState.Succeeded);
        Assert.Equal(42, await host.Client.GetResultAsync(kept, TestHost.IntSerializer));
        await host.WaitForStateAsync(after, JobState.Succeeded);
    }

    [Fact]
    public async Task AnEnqueueDelayLongerThanMaxDelay_IsRefusedAtEnqueue_NamingTheLimit()
    {
        var task = Tasks.Create("far-future", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), startWorker: false);

        var delay = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Delay = TimeSpan.MaxValue }).AsTask());
        var runAt = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { RunAt = DateTimeOffset.MaxValue }).AsTask());

        Assert.Contains("JobOptions.Delay must be between zero and 36525 days", delay.Message);
        Assert.Contains("JobOptions.RunAt must be less than 36525 days from now", runAt.Message);
        Assert.Empty((await host.Storage.JobsListAsync(new JobsListParams(), default)).Jobs);

        // The limit itself is accepted.
        await host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Delay = StorageRules.MaxDelay });
    }

    [Fact]
    public async Task AHeartbeatInFlightAtShutdown_DoesNotKeepTheWorkerFromLeavingTheRegistry()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new HeartbeatHangs(new MemoryStorage(time));
        var host = await StartAsync(store, time, b => b.AddWorker(w => w.LeaseDuration = TimeSpan.FromSeconds(30)));

        // The first registration answers; the next heartbeat hangs until the worker stops.
        await Eventually.TrueAsync(() => store.Hanging, "a heartbeat to be in flight", tick: () => time.Advance(TimeSpan.FromSeconds(1)));
        await StopAsync(host, time);

        Assert.Equal(1, store.Removed);
    }

    [Fact]
    public async Task TheShutdownDeadlineForUnwrittenOutcomes_IsOnTheWorkersClock()
    {
        var (host, store, time) = await StartWithAnUnwritableOutcomeAsync(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);

        // The outcome cannot be written; the worker keeps trying until ShutdownTimeout + AbandonGrace (11 minutes) have
        // passed on its clock. On the wall clock that is 11 real minutes; on the worker's fake clock it passes at once.
        var stop = host.StopAsync();
        await Eventually.TrueAsync(() => stop.IsCompleted, "the worker to give the outcome up at its deadline", TimeSpan.FromSeconds(120),
            tick: () => time.Advance(TimeSpan.FromSeconds(10)));
        await stop;
        Assert.Equal(1, store.Removed);
        host.Dispose();
    }

    [Fact]
    public async Task AHandlerThatIgnoresItsToken_WhenTheHostsShutdownTimeoutHasPassed_IsGivenUpAndItsJobReturned_BeforeTheHostStops()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new RemovalsCounted(new MemoryStorage(time), completionsFail: false);
        var started = new TaskCompletionSource();
        var stuck = new TaskCompletionSource();
        var task = Tasks.Create("ignores-the-shutdown", async (_, _) =>
        {
            started.TrySetResult();
            await stuck.Task;
        });
        var host = await StartAsync(store, time, b => b.AddTask(task).AddWorker(w =>
        {
            w.ShutdownTimeout = TimeSpan.FromMinutes(10);
            w.AbandonGrace = TimeSpan.FromMinutes(1);
        }));
        var id = await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(task, new TestPayload("x"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The host's shutdown deadline has passed already (other services used it up). The worker's own 11 minutes
        // never pass on its clock here: only hurrying can stop it. Returning before it has stopped would let the host
        // dispose the store under it, with the job still leased to a worker that is gone.
        await host.StopAsync(new CancellationToken(canceled: true)).WaitAsync(TimeSpan.FromSeconds(120));

        var job = (await store.JobsGetAsync(new JobsGetParams(id), default)).Job!;
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Equal(1, store.Removed);
        stuck.TrySetResult();
        host.Dispose();
    }

    [Fact]
    public async Task OutcomesUnwritten_WhenTheHostsShutdownTimeoutHasPassed_AreTriedForTheHurriedBudgetOnly()
    {
        var (host, store, time) = await StartWithAnUnwritableOutcomeAsync(hostOptions: null);

        // Unhurried, the writer would keep trying for ShutdownTimeout + AbandonGrace (11 minutes on the worker's clock).
        var stop = host.StopAsync(new CancellationToken(canceled: true));
        var advanced = TimeSpan.Zero;
        await Eventually.TrueAsync(() => stop.IsCompleted, "the worker to stop", TimeSpan.FromSeconds(120), tick: () =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
        });
        await stop;

        Assert.Equal(1, store.Removed);
        Assert.InRange(advanced, JobWorker.HurriedWriteBudget, TimeSpan.FromMinutes(1));
        host.Dispose();
    }

    [Theory]
    [InlineData(nameof(IJobStore.JobsRescueAsync))]
    [InlineData(nameof(IScheduleStore.SchedulesDueAsync))]
    public async Task AMaintenanceOrSchedulerCallInFlightWhenTheHostsShutdownTimeoutHasPassed_EndsBeforeTheHostStops(string operation)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new FirstCallHangs(new MemoryStorage(time), operation);
        var host = await StartAsync(store, time, b => b.AddWorker(_ => { }));
        await store.InFlight.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The call observes the stopping token, then takes a moment to unwind (as a driver cancelling a command does).
        // The host must not go on to dispose the store before that.
        await host.StopAsync(new CancellationToken(canceled: true)).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.True(store.Ended);
        host.Dispose();
    }

    /// <summary>
    /// A worker whose store refuses every completion, with 10 minutes of shutdown timeout and 1 of abandon grace on a
    /// fake clock, after one job ran: its outcome can never be written.
    /// </summary>
    private static async Task<(IHost Host, RemovalsCounted Store, FakeTimeProvider Time)> StartWithAnUnwritableOutcomeAsync(Action<HostOptions>? hostOptions)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var store = new RemovalsCounted(new MemoryStorage(time), completionsFail: true);
        var ran = new TaskCompletionSource();
        var task = Tasks.Create("outcome-never-written", (_, _) =>
        {
            ran.TrySetResult();
            return ValueTask.CompletedTask;
        });
        var host = await StartAsync(store, time, b => b.AddTask(task).AddWorker(w =>
        {
            w.ShutdownTimeout = TimeSpan.FromMinutes(10);
            w.AbandonGrace = TimeSpan.FromMinutes(1);
        }), hostOptions);
        await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(task, new TestPayload("x"));
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return (host, store, time);
    }

    /// <summary>Stops the host, moving the fake clock while shutdown waits on it, and disposes it.</summary>
    private static async Task StopAsync(IHost host, FakeTimeProvider time)
    {
        var stop = host.StopAsync();
        await Eventually.TrueAsync(() => stop.IsCompleted, "the host to stop", tick: () => time.Advance(TimeSpan.FromSeconds(1)));
        await stop;
        host.Dispose();
    }

    private static async Task<IHost> StartAsync(Storage.Conformance.DelegatingStorage store, FakeTimeProvider time, Action<TypedJobsBuilder> configure,
        Action<HostOptions>? hostOptions = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(time);
        if (hostOptions is not null)
        {
            builder.Services.Configure(hostOptions);
        }

        configure(builder.Services.AddTypedJobs(o => o.UseStorage(_ => store)));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private sealed class ThrowsOnDispose : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => throw new InvalidOperationException("a scoped service whose disposal throws");
    }

    private sealed class LeaseWritesHang(MemoryStorage inner) : Storage.Conformance.DelegatingStorage(inner)
    {
        private int progressCalls;

        public bool Hanging { get; set; }

        public int ProgressCalls => Volatile.Read(ref progressCalls);

        public override async ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken)
        {
            if (Hanging)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await base.LeasesExtendAsync(parameters, cancellationToken);
        }

        public override async ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken)
        {
            if (Hanging)
            {
                Interlocked.Increment(ref progressCalls);
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await base.JobsProgressAsync(parameters, cancellationToken);
        }
    }

    private sealed class PruneThenFail(MemoryStorage inner, FakeTimeProvider time) : Storage.Conformance.DelegatingStorage(inner)
    {
        private int pruned;
        private int failedRescues;

        public int FailedRescues => Volatile.Read(ref failedRescues);

        public override ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref pruned, 1) == 0)
            {
                // A full batch that took longer than a pass's budget: the pass ends with work left.
                time.Advance(TimeSpan.FromSeconds(21));
                return ValueTask.FromResult(new JobsPruneResult(parameters.Max));
            }

            return base.JobsPruneAsync(parameters, cancellationToken);
        }

        public override ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref pruned) == 0)
            {
                return base.JobsRescueAsync(parameters, cancellationToken);
            }

            Interlocked.Increment(ref failedRescues);
            throw new TimeoutException("the store is unreachable");
        }
    }

    private sealed class HeartbeatHangs(MemoryStorage inner) : Storage.Conformance.DelegatingStorage(inner)
    {
        private int heartbeats;
        private int removed;

        public bool Hanging => Volatile.Read(ref heartbeats) > 1;

        public int Removed => Volatile.Read(ref removed);

        public override async ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref heartbeats) > 1)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await base.WorkersHeartbeatAsync(parameters, cancellationToken);
        }

        public override ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref removed);
            return base.WorkersRemoveAsync(parameters, cancellationToken);
        }
    }

    private sealed class FirstCallHangs(MemoryStorage inner, string operation) : Storage.Conformance.DelegatingStorage(inner)
    {
        private int calls;
        private volatile bool ended;

        public TaskCompletionSource InFlight { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Ended => ended;

        public override ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken) =>
            operation == nameof(JobsRescueAsync) ? HangOnceAsync(() => base.JobsRescueAsync(parameters, cancellationToken), cancellationToken)
                : base.JobsRescueAsync(parameters, cancellationToken);

        public override ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken) =>
            operation == nameof(SchedulesDueAsync) ? HangOnceAsync(() => base.SchedulesDueAsync(parameters, cancellationToken), cancellationToken)
                : base.SchedulesDueAsync(parameters, cancellationToken);

        private async ValueTask<T> HangOnceAsync<T>(Func<ValueTask<T>> call, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref calls) > 1)
            {
                return await call();
            }

            InFlight.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                throw new InvalidOperationException("unreachable: the delay never ends on its own");
            }
            catch (OperationCanceledException)
            {
                await Task.Delay(50, CancellationToken.None);
                ended = true;
                throw;
            }
        }
    }

    private sealed class RemovalsCounted(MemoryStorage inner, bool completionsFail) : Storage.Conformance.DelegatingStorage(inner)
    {
        private int removed;

        public int Removed => Volatile.Read(ref removed);

        public override ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken) =>
            completionsFail ? throw new TimeoutException("the store is unreachable") : base.JobsCompleteAsync(parameters, cancellationToken);

        public override ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref removed);
            return base.WorkersRemoveAsync(parameters, cancellationToken);
        }
    }
}
