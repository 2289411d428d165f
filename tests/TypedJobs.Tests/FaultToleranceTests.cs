using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Engine;
using TypedJobs.Storage;
using TypedJobs.Storage.Memory;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

/// <summary>
/// The engine's own defences, each with the fault that used to break it: a logger or a store answer that could end
/// the outcome writer, a lease shorter than the store's timeouts, pruning that could not keep up, one maintenance loop
/// per worker, log lines that could not be followed to their job, and progress reports.
/// </summary>
public class FaultToleranceTests
{
    [Fact]
    public async Task OutcomeWriter_SurvivesALoggerThatThrows_WhileReportingAnOutcome()
    {
        var ran = 0;
        var task = Tasks.Create("logged", (_, _) =>
        {
            Interlocked.Increment(ref ran);
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), host: h =>
        {
            h.Logging.ClearProviders();
            h.Logging.SetMinimumLevel(LogLevel.Debug);
            h.Logging.AddProvider(new ThrowingLoggerProvider(eventId: 9)); // "job succeeded"
        });

        var ids = new List<JobId>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await host.Client.EnqueueAsync(task, new TestPayload($"{i}")));
        }

        foreach (var id in ids)
        {
            Assert.Equal(JobState.Succeeded, (await host.WaitForStateAsync(id, JobState.Succeeded)).State);
        }

        Assert.Equal(5, ran);
    }

    [Fact]
    public async Task OutcomeWriter_SurvivesAStoreThatAnswersForFewerCompletionsThanItWasGiven()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        var inner = new MemoryStorage(time);
        var store = new ShortAnswerStorage(inner);
        var task = Tasks.Create("short", (_, _) => ValueTask.CompletedTask);
        var builderHost = await TestHost.StartAsync(b => b.AddTask(task), time: time, storage: inner, host: h =>
        {
            // The worker sees the store through the decorator; the test reads the real one.
            h.Services.Configure<TypedJobsOptions>(o => o.UseStorage(_ => store));
        });
        await using var host = builderHost;

        var first = await host.Client.EnqueueAsync(task, new TestPayload("first"));
        await Eventually.TrueAsync(() => store.Shortened, "a completion batch answered short");
        var second = await host.Client.EnqueueAsync(task, new TestPayload("second"));

        Assert.Equal(JobState.Succeeded, (await host.WaitForStateAsync(second, JobState.Succeeded)).State);
        Assert.Equal(JobState.Succeeded, (await host.WaitForStateAsync(first, JobState.Succeeded)).State);
    }

    [Fact]
    public async Task LeaseNotLongerThanAHeartbeatPlusTwiceTheStoresTimeout_StopsStartup_NamingBoth()
    {
        var store = new SlowStoreTimeout(new MemoryStorage(), TimeSpan.FromSeconds(5));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddTypedJobs(o => o.UseStorage(_ => store)).AddWorker(w => w.LeaseDuration = TimeSpan.FromSeconds(10));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("TypedJobs:Worker:LeaseDuration = '00:00:10'", error.Message);
        Assert.Contains("00:00:05", error.Message);
    }

    [Fact]
    public async Task Pruning_DeletesInBatchesUntilABatchComesBackShort_NotOneBatchPerPass()
    {
        await using var host = await TestHost.StartAsync(_ => { }, startWorker: false, options: o => o.SucceededRetention = TimeSpan.FromHours(1));
        const int finished = 25_000;
        var inserts = Enumerable.Range(0, finished).Select(_ => new JobInsert
        {
            Id = JobId.New(), TaskName = "done", Queue = "default", Payload = "{}"u8.ToArray(),
        }).ToArray();
        await host.Storage.JobsInsertAsync(new JobsInsertParams(inserts), default);
        var claimed = await host.Storage.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = "w", Queues = [new QueueClaim("default", finished)], Max = finished, LeaseDuration = TimeSpan.FromMinutes(5),
        }, default);
        await host.Storage.JobsCompleteAsync(new JobsCompleteParams(claimed.Jobs.Select(j => new JobCompletion
        {
            Job = j.Ref, LeaseToken = j.LeaseToken!.Value, TargetState = JobState.Succeeded,
        }).ToArray()), default);
        host.Time.Advance(TimeSpan.FromHours(2));
        var maintenance = new MaintenanceService(host.Services.GetRequiredService<Hosting.StorageSet>(), host.Services.GetRequiredService<TypedJobsOptions>(),
            [new WorkerOptions()], host.Services.GetRequiredService<Events.JobEventHub>(), host.Services.GetRequiredService<Diagnostics.TypedJobsMetrics>(),
            host.Time, host.Services.GetRequiredService<ILogger<MaintenanceService>>());

        var more = await maintenance.PruneAsync(default);

        Assert.False(more);
        Assert.Equal(0, host.Storage.Count);
    }

    [Fact]
    public async Task SeveralWorkers_ShareOneMaintenanceLoopPerProcess()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTypedJobs(o => o.UseInMemory())
            .AddWorker(w => w.Queues = ["a"])
            .AddWorker(w => w.Queues = ["b"]);
        await using var provider = services.BuildServiceProvider();

        var hosted = provider.GetServices<IHostedService>().ToList();

        Assert.Equal(2, hosted.OfType<JobWorker>().Count());
        Assert.Single(hosted.OfType<MaintenanceService>());
    }

    [Fact]
    public async Task EveryLogLineOfAnAttempt_CarriesTheJobsIdTaskQueueAndAttempt()
    {
        var logs = new ScopeCapturingProvider();
        var task = Tasks.Create("chatty", (_, ctx) =>
        {
            ctx.Services.GetRequiredService<ILogger<FaultToleranceTests>>().LogInformation("working");
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), host: h =>
        {
            h.Logging.ClearProviders();
            h.Logging.AddProvider(logs);
        });

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"), new JobOptions { Queue = "default" });
        await host.WaitForStateAsync(id, JobState.Succeeded);

        var line = Assert.Single(logs.Lines, l => l.Message == "working");
        Assert.Equal(id.ToString(), line.Scope["JobId"]);
        Assert.Equal("chatty", line.Scope["TaskName"]);
        Assert.Equal("default", line.Scope["Queue"]);
        Assert.Equal(1, line.Scope["Attempt"]);
        Assert.Equal("test-worker", line.Scope["WorkerId"]);
    }

    [Fact]
    public async Task ReportedProgress_IsWrittenToTheStore_WhileTheAttemptRuns()
    {
        var release = new TaskCompletionSource();
        var task = Tasks.Create("progressing", async (_, ctx) =>
        {
            await ctx.ReportProgressAsync(0.25, "a quarter");
            await ctx.ReportProgressAsync(0.5, "half");
            await release.Task;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        var running = await Tasks.WaitForStateAsync(host, id, JobState.Running);
        JobRecord? job = null;
        await Eventually.TrueAsync(async () => (job = await host.Client.GetJobAsync(id))?.Progress == 0.5, "the progress to be written",
            tick: () => host.Time.Advance(TimeSpan.FromMilliseconds(500)));
        release.SetResult();

        Assert.Equal(JobState.Running, running.State);
        Assert.Equal("half", job!.ProgressMessage);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await new JobContext(id, "t", "q", Priority.Normal, 1, 0, default, "w", host.Services, default).ReportProgressAsync(1.5));
    }

    private sealed class ThrowingLoggerProvider(int eventId) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger(eventId);

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger(int eventId) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (id.Id == eventId)
                {
                    throw new InvalidOperationException("a broken log sink");
                }
            }
        }
    }

    private sealed class ShortAnswerStorage(MemoryStorage inner) : Storage.Conformance.DelegatingStorage(inner)
    {
        private int shortened;

        public bool Shortened => Volatile.Read(ref shortened) != 0;

        public override async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
        {
            var result = await base.JobsCompleteAsync(parameters, cancellationToken);
            return Interlocked.Exchange(ref shortened, 1) == 0 ? new JobsCompleteResult([]) : result;
        }
    }

    private sealed class SlowStoreTimeout(MemoryStorage inner, TimeSpan timeout) : Storage.Conformance.DelegatingStorage(inner)
    {
        public override TimeSpan HotPathTimeout => timeout;
    }

    private sealed class ScopeCapturingProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly List<(string Message, Dictionary<string, object?> Scope)> lines = [];
        private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

        public IReadOnlyList<(string Message, Dictionary<string, object?> Scope)> Lines
        {
            get
            {
                lock (lines)
                {
                    return lines.ToArray();
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new ScopeLogger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class ScopeLogger(ScopeCapturingProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner.scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
                owner.scopes.ForEachScope(static (s, d) =>
                {
                    if (s is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, value) in pairs)
                        {
                            d[key] = value;
                        }
                    }
                }, scope);
                lock (owner.lines)
                {
                    owner.lines.Add((formatter(state, exception), scope));
                }
            }
        }
    }
}
