using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TypedJobs.Diagnostics;
using TypedJobs.Engine;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Scheduling;
using TypedJobs.Storage;

namespace TypedJobs.Testing;

/// <summary>
/// Tests code that uses TypedJobs. In a host set up with <c>services.AddTypedJobsTesting()</c> (or one made by
/// <see cref="StartAsync"/>), workers, the scheduler and maintenance run no loops of their own, and the clock is a
/// <see cref="FakeTimeProvider"/> that moves only when the test moves it. The kit then lets the test:
/// <list type="bullet">
/// <item>assert what was enqueued, typed by the task's generated arguments record
/// (<see cref="AssertEnqueuedAsync{TArgs}(TArgs, string?, TimeSpan?, Priority?, CancellationToken)"/>,
/// <see cref="AssertNothingElseEnqueuedAsync"/>), reading payloads with the task's own serializer;</item>
/// <item>run what is due (<see cref="DrainAsync(CancellationToken)"/>), optionally moving the clock through delays,
/// retries and schedule occurrences (<see cref="DrainAsync(TimeSpan, CancellationToken)"/>), with the engine's own
/// claim, outcome and retry logic, and see every attempt that ran;</item>
/// <item>run one handler directly with arguments and a context the test controls
/// (<see cref="RunHandlerAsync{TArgs}(TArgs, HandlerRunOptions?)"/>).</item>
/// </list>
/// Failed assertions throw <see cref="JobAssertionException"/>, so the kit works with any test framework.
/// </summary>
public sealed partial class JobTestKit : IAsyncDisposable
{
    /// <summary>The worker id of attempts the kit runs.</summary>
    public const string WorkerId = "typedjobs-testing";

    private readonly IServiceProvider services;
    private readonly SemaphoreSlim gate = new(1, 1);
    private IHost? ownedHost;
    private JobWorker? worker;
    private string[] workerQueues = [];
    private SchedulerService? scheduler;
    private bool schedulerResolved;
    private int disposed;

    internal JobTestKit(IServiceProvider services, FakeTimeProvider time)
    {
        this.services = services;
        Time = time;
        if (!ReferenceEquals(services.GetService<TimeProvider>(), time))
        {
            throw new InvalidOperationException(
                "Another TimeProvider was registered after AddTypedJobsTesting(): call AddTypedJobsTesting() last (for example in "
                + "ConfigureTestServices), or pass your FakeTimeProvider in JobTestOptions.Time.");
        }
    }

    /// <summary>The application's clock. It moves only when the test (or <c>DrainAsync</c> with a time span) moves it.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The application's services.</summary>
    public IServiceProvider Services => services;

    /// <summary>The application's job client.</summary>
    public IJobClient Client => services.GetRequiredService<IJobClient>();

    /// <summary>The application's job administration API.</summary>
    public IJobAdmin Admin => services.GetRequiredService<IJobAdmin>();

    /// <summary>The most attempts one <c>DrainAsync</c> call runs before it stops with an error (a job that keeps enqueuing itself, say). Default 10,000.</summary>
    public int MaxRunsPerDrain { get; set; } = 10_000;

    private TaskRegistry Registry => services.GetRequiredService<TaskRegistry>();

    private TypedJobsOptions Options => services.GetRequiredService<TypedJobsOptions>();

    /// <summary>
    /// Builds and starts a host for tests that need no application host of their own: TypedJobs on the in-memory store
    /// and a fake clock, every task of the referenced assemblies registered. Dispose the kit to stop the host.
    /// </summary>
    /// <param name="configure">Adds to TypedJobs (tasks, observers, options through <c>services</c>).</param>
    /// <param name="services">Registers the services the handlers need.</param>
    /// <param name="options">The kit's settings.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<JobTestKit> StartAsync(Action<TypedJobsBuilder>? configure = null, Action<IServiceCollection>? services = null,
        Action<JobTestOptions>? options = null, CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        services?.Invoke(builder.Services);
        var jobs = builder.Services.AddTypedJobs();
        configure?.Invoke(jobs);
        builder.Services.AddTypedJobsTesting(options);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        var kit = host.Services.GetJobTestKit();
        kit.ownedHost = host;
        return kit;
    }

    /// <summary>
    /// Runs one handler directly, outside any queue: <paramref name="arguments"/> are written with the task's serializer
    /// and read back as the job would read them, and the handler gets a <see cref="JobContext"/> whose attempt,
    /// cancellation and progress the test controls (<paramref name="options"/>), in a DI scope of its own. The handler's
    /// exception, if any, is thrown to the caller as is. No job is stored.
    /// </summary>
    /// <exception cref="InvalidOperationException">The task is not registered in this host.</exception>
    public async Task<HandlerRun> RunHandlerAsync<TArgs>(TArgs arguments, HandlerRunOptions? options = null)
        where TArgs : class, ITaskArguments<TArgs>
    {
        ArgumentNullException.ThrowIfNull(arguments);
        options ??= new HandlerRunOptions();
        var task = FindTask(TArgs.TaskName);
        var settings = Options;
        var progress = new List<(double Value, string? Message)>();
        var onProgress = options.OnProgress;
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var context = new JobContext(options.JobId ?? JobId.New(), task.Name, options.Queue ?? task.Settings.Queue ?? settings.DefaultQueue,
                task.Settings.Priority, options.Attempt, options.MaxRetries ?? task.Settings.MaxRetries ?? settings.DefaultMaxRetries, Time.GetUtcNow(),
                WorkerId, scope.ServiceProvider, options.CancellationToken, (value, message) =>
                {
                    lock (progress)
                    {
                        progress.Add((value, message));
                    }

                    onProgress?.Invoke(value, message);
                });
            var result = await task.InvokeAsync(arguments.ToPayload(), context).ConfigureAwait(false);
            return new HandlerRun(task, context, result, progress);
        }
    }

    /// <summary>Runs every job that is due now, and the jobs those enqueue, until nothing is due; the clock does not move.</summary>
    /// <returns>Every attempt that ran, in order.</returns>
    public Task<DrainResult> DrainAsync(CancellationToken cancellationToken = default) => DrainCoreAsync(null, cancellationToken);

    /// <summary>
    /// Runs what is due, then moves the clock to the next moment something is due — a delayed job, a retry after its
    /// backoff, a schedule's occurrence — and runs that, until nothing more is due within <paramref name="advanceBy"/>
    /// from now; the clock then stands at now + <paramref name="advanceBy"/>. Attempts run one at a time, in the order
    /// the store hands them out.
    /// </summary>
    /// <returns>Every attempt that ran, in order.</returns>
    public Task<DrainResult> DrainAsync(TimeSpan advanceBy, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(advanceBy, TimeSpan.Zero);
        return DrainCoreAsync(advanceBy, cancellationToken);
    }

    /// <summary>Stops the host when <see cref="StartAsync"/> made it; otherwise the application's host owns everything.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        if (ownedHost is { } host)
        {
            await host.StopAsync().ConfigureAwait(false);
            host.Dispose();
        }

        gate.Dispose();
    }

    private async Task<DrainResult> DrainCoreAsync(TimeSpan? advanceBy, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var storage = services.GetRequiredService<StorageSet>();
            await storage.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
            var until = advanceBy is { } span ? Time.GetUtcNow() + span : (DateTimeOffset?)null;
            var runs = new List<JobRun>();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var schedules = await SchedulerAsync(cancellationToken).ConfigureAwait(false);
                if (schedules is not null)
                {
                    await schedules.ManualPassAsync(cancellationToken).ConfigureAwait(false);
                }

                var step = await WorkerAsync(cancellationToken).ConfigureAwait(false);
                TimeSpan? jobDueIn = null;
                var ran = false;
                while (true)
                {
                    var startedAt = Time.GetUtcNow();
                    var (job, outcome, cancelled, nextDueIn) = await step.RunOneAsync(cancellationToken).ConfigureAwait(false);
                    if (job is null)
                    {
                        jobDueIn = nextDueIn;
                        break;
                    }

                    ran = true;
                    runs.Add(Describe(job, outcome, cancelled, startedAt));
                    if (runs.Count >= MaxRunsPerDrain)
                    {
                        throw new InvalidOperationException(
                            $"DrainAsync ran {runs.Count} attempts and there is still work (MaxRunsPerDrain): does a job keep enqueuing itself? Last: {runs[^1]}");
                    }
                }

                if (ran)
                {
                    // Handlers may have enqueued jobs (to new queues too) and schedules may be due: look again.
                    continue;
                }

                if (until is not { } end)
                {
                    break;
                }

                var now = Time.GetUtcNow();
                var next = jobDueIn is { } d ? now + d : (DateTimeOffset?)null;
                if (schedules is not null && await NextScheduleDueAsync(cancellationToken).ConfigureAwait(false) is { } scheduleDue
                    && (next is null || scheduleDue < next))
                {
                    next = scheduleDue;
                }

                if (next is not { } moveTo || moveTo > end || moveTo <= now)
                {
                    // Nothing more is due in the window (or what is due cannot run: a paused queue, say): stand at the end.
                    if (end > now)
                    {
                        Time.SetUtcNow(end);
                    }

                    break;
                }

                Time.SetUtcNow(moveTo);
            }

            return new DrainResult(runs, Time.GetUtcNow());
        }
        finally
        {
            gate.Release();
        }
    }

    private JobRun Describe(JobRecord job, Outcome? outcome, bool cancelled, DateTimeOffset startedAt)
    {
        Registry.TryGet(job.TaskName, out var task);
        if (outcome is null)
        {
            return new JobRun(job, task, JobRunOutcome.Retrying, startedAt)
            {
                Error = "The attempt failed outside its handler (see the log); its lease expires and the job returns to its queue.",
            };
        }

        if (cancelled || !outcome.Applied)
        {
            return new JobRun(job, task, JobRunOutcome.Cancelled, startedAt)
            {
                Error = outcome.Error,
                Exception = outcome.Exception,
            };
        }

        var kind = outcome.Kind switch
        {
            AttemptOutcome.Succeeded => JobRunOutcome.Succeeded,
            AttemptOutcome.Retry => JobRunOutcome.Retrying,
            AttemptOutcome.Dead => JobRunOutcome.Dead,
            AttemptOutcome.Snooze or AttemptOutcome.Release => JobRunOutcome.Snoozed,
            _ => JobRunOutcome.Cancelled,
        };
        var result = kind == JobRunOutcome.Succeeded ? outcome.Result ?? outcome.Completion.Result : null;
        return new JobRun(job, task, kind, startedAt)
        {
            Error = outcome.Error ?? outcome.Completion.Error,
            Exception = outcome.Exception,
            RetryDelay = kind is JobRunOutcome.Retrying or JobRunOutcome.Snoozed ? outcome.Delay : null,
            Result = result,
        };
    }

    /// <summary>A manual worker for every queue that has tasks or jobs (made again when a new queue appears).</summary>
    private async Task<JobWorker> WorkerAsync(CancellationToken cancellationToken)
    {
        var options = Options;
        var queues = new SortedSet<string>(StringComparer.Ordinal) { options.DefaultQueue };
        foreach (var task in Registry.Tasks)
        {
            queues.Add(task.Settings.Queue ?? options.DefaultQueue);
        }

        foreach (var queue in await Admin.GetQueuesAsync(cancellationToken).ConfigureAwait(false))
        {
            queues.Add(queue.Name);
        }

        if (worker is not null && queues.SetEquals(workerQueues))
        {
            return worker;
        }

        var settings = new WorkerOptions { WorkerId = WorkerId, Concurrency = 1, Queues = queues.ToList() };
        worker = new JobWorker(services.GetRequiredService<StorageSet>(), Registry, options, settings,
            services.GetRequiredService<JobEventHub>(), services.GetRequiredService<LocalJobs>(), services.GetRequiredService<TypedJobsMetrics>(),
            Time, services.GetRequiredService<IServiceScopeFactory>(), services.GetRequiredService<ILogger<JobWorker>>());
        workerQueues = queues.ToArray();
        return worker;
    }

    /// <summary>The host's scheduler, or one of the kit's own when the host runs none (so schedules declared in code fire in tests).</summary>
    private async Task<SchedulerService?> SchedulerAsync(CancellationToken cancellationToken)
    {
        if (schedulerResolved)
        {
            return scheduler;
        }

        var found = services.GetServices<IHostedService>().OfType<SchedulerService>().FirstOrDefault();
        if (found is null)
        {
            found = new SchedulerService(services.GetRequiredService<ScheduleAdmin>(), Registry, Client, Options, Time,
                services.GetRequiredService<ILogger<SchedulerService>>());
            await found.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        scheduler = found.CanRun ? found : null;
        schedulerResolved = true;
        return scheduler;
    }

    private async Task<DateTimeOffset?> NextScheduleDueAsync(CancellationToken cancellationToken)
    {
        var admin = services.GetRequiredService<ScheduleAdmin>();
        var store = await admin.StoreAsync(cancellationToken).ConfigureAwait(false);
        var list = await store.SchedulesListAsync(new SchedulesListParams(), cancellationToken).ConfigureAwait(false);
        DateTimeOffset? next = null;
        foreach (var schedule in list.Schedules)
        {
            if (!schedule.Paused && schedule.NextRunAt is { } at && Registry.TryGet(schedule.TaskName, out _) && (next is null || at < next))
            {
                next = at;
            }
        }

        return next;
    }

    private JobTask FindTask(string name) =>
        Registry.TryGet(name, out var task)
            ? task
            : throw new InvalidOperationException(
                $"The task '{name}' is not registered in this host. Tasks of referenced assemblies are registered by AddTypedJobs(); "
                + "a hand-made JobTask needs AddTask(...).");
}
