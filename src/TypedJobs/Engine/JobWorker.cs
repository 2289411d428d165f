using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Contracts;
using TypedJobs.Diagnostics;
using TypedJobs.Events;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// One worker (a hosted service) composed of: a <see cref="JobProducer"/> that claims up to the free slots, a
/// <see cref="JobExecutor"/> that runs attempts and decides their outcomes, an <see cref="OutcomeWriter"/> that writes
/// them in fenced batches, and a <see cref="LeaseKeeper"/> that extends leases, writes progress and stops attempts whose
/// lease it cannot prove. Rescue and pruning run once per process in <see cref="MaintenanceService"/>. Shutdown is
/// bounded: stop claiming, let attempts finish for <see cref="WorkerOptions.ShutdownTimeout"/>, cancel the rest, give up
/// those that ignore it after <see cref="WorkerOptions.AbandonGrace"/> (returning their jobs without using an attempt),
/// and write what is left for a bounded time. When the host's own shutdown timeout passes first, the worker hurries: it
/// gives up what still runs at once and writes for at most <see cref="HurriedWriteBudget"/> more, and the host waits for
/// that, so the store is never disposed while the worker still writes to it.
/// </summary>
internal sealed class JobWorker : BackgroundService
{
    private readonly StorageSet storage;
    private readonly TypedJobsOptions options;
    private readonly WorkerOptions worker;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly string[] queueNames;
    private readonly WorkerRegistration registration;
    private readonly WorkerSlots slots;
    private readonly LeaseKeeper leases;
    private readonly OutcomeWriter writer;
    private readonly JobExecutor executor;
    private readonly JobProducer producer;
    private readonly CancellationTokenSource background = new();
    // Cancelled when the host's shutdown timeout passes before this worker has stopped.
    private readonly CancellationTokenSource hurry = new();

    /// <summary>How long outcomes are still written once the host's shutdown timeout has passed.</summary>
    internal static readonly TimeSpan HurriedWriteBudget = TimeSpan.FromSeconds(5);

    public JobWorker(StorageSet storage, TaskRegistry registry, TypedJobsOptions options, WorkerOptions worker, JobEventHub hub,
        LocalJobs localJobs, TypedJobsMetrics metrics, TimeProvider time, IServiceScopeFactory scopes, ILogger<JobWorker> logger,
        string? contractHash = null, Contracts.DeployedContracts? contracts = null)
    {
        worker.Validate();
        this.storage = storage;
        this.options = options;
        this.worker = worker;
        this.time = time;
        this.logger = logger;
        WorkerId = worker.WorkerId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
        queueNames = worker.Queues.Distinct(StringComparer.Ordinal).ToArray();
        // Tasks with a per-worker MaxConcurrency (name → limit), computed once: the registry never changes.
        var capped = registry.Tasks.Where(static t => t.Settings.MaxConcurrency > 0)
            .ToDictionary(static t => t.Name, static t => t.Settings.MaxConcurrency, StringComparer.Ordinal);
        registration = new WorkerRegistration
        {
            Id = WorkerId,
            Host = Environment.MachineName,
            ProcessId = Environment.ProcessId,
            Queues = queueNames,
            Tasks = registry.Tasks.Select(static t => t.Name).Order(StringComparer.Ordinal).ToArray(),
            ContractHash = contractHash,
            SensitiveTasks = registry.Tasks.Where(static t => t.HasSensitiveMembers).Select(static t => t.Name).Order(StringComparer.Ordinal).ToArray(),
            VisibleMembers = registry.Tasks.Where(static t => t.HasSensitiveMembers).ToDictionary(
                static t => t.Name,
                t => PayloadMembers.Visible(t, contracts is not null && contracts.TryGet(t.Name, out var contract) ? contract : null),
                StringComparer.Ordinal),
            Concurrency = worker.Concurrency,
        };
        slots = new WorkerSlots(worker, queueNames, capped);
        leases = new LeaseKeeper(storage.Jobs, worker, WorkerId, time, logger);
        writer = new OutcomeWriter(storage, slots, leases, worker, hub, metrics, time, WorkerId, logger);
        executor = new JobExecutor(storage, registry, options, worker, slots, leases, writer, hub, localJobs, metrics, time, scopes, WorkerId, logger);
        slots.Promoted = executor.LaunchPromoted;
        producer = new JobProducer(storage.Jobs, worker, slots, executor, time, WorkerId, queueNames, logger);
    }

    public string WorkerId { get; }

    /// <summary>The lease keeper (for tests that force a heartbeat or count held leases).</summary>
    internal LeaseKeeper Leases => leases;

    /// <summary>
    /// One step of a worker whose loops do not run (<see cref="TypedJobsOptions.ManualExecution"/>, the testing kit):
    /// claims at most one due job of this worker's queues, runs it in the caller's flow and writes its outcome before
    /// returning. Returns the claimed job and its outcome (both <see langword="null"/> when nothing was due; the job
    /// alone when the attempt crashed outside its handler) and, when nothing was due, how long until the next job of
    /// these queues is due by the store's clock.
    /// </summary>
    internal async Task<(JobRecord? Job, Outcome? Outcome, bool Cancelled, TimeSpan? NextDueIn)> RunOneAsync(CancellationToken cancellationToken)
    {
        var (claims, total, taskLimits, _) = slots.Capacity();
        if (total == 0)
        {
            return (null, null, false, null);
        }

        var sentAt = time.GetTimestamp();
        var result = await storage.Jobs.JobsClaimAsync(new JobsClaimParams
        {
            WorkerId = WorkerId,
            Queues = claims,
            Max = 1,
            LeaseDuration = worker.LeaseDuration,
            TaskLimits = taskLimits,
        }, cancellationToken).ConfigureAwait(false);
        if (result.Jobs.Count == 0)
        {
            return (null, null, false, result.NextDueIn);
        }

        var job = result.Jobs[0];
        var (outcome, cancelled) = await executor.RunInlineAsync(job, sentAt).ConfigureAwait(false);
        await writer.FlushAsync().ConfigureAwait(false);
        return (job, outcome, cancelled, null);
    }

    /// <summary>Checks the lease against the jobs store's hot-path timeout before anything runs: a bad pair stops startup.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        worker.Validate(storage.Jobs.HotPathTimeout, storage.Jobs.GetType().Name);
        return base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Stops the worker and waits until it has stopped, even past the host's shutdown timeout: at that timeout the
    /// worker hurries (running attempts are given up at once, outcomes get <see cref="HurriedWriteBudget"/>), so the wait
    /// stays bounded. Returning earlier would let the host dispose the store while outcomes are still being written.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await using var hurrying = cancellationToken.UnsafeRegister(static state => ((JobWorker)state!).Hurry(), this).ConfigureAwait(false);
        await base.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private void Hurry()
    {
        if (hurry.IsCancellationRequested || ExecuteTask is null || ExecuteTask.IsCompleted)
        {
            return;
        }

        Log.ShutdownHurried(logger, WorkerId, slots.Running, HurriedWriteBudget);
        // Only this worker's own waits are registered on the token, and none of them throws.
        hurry.Cancel();
        writer.GiveUpWithin(HurriedWriteBudget);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ManualExecution)
        {
            // The testing kit runs jobs itself (RunOneAsync), in the test's flow.
            return;
        }

        await Task.Yield();
        await storage.EnsureInitializedAsync(stoppingToken).ConfigureAwait(false);
        Log.WorkerStarted(logger, WorkerId, string.Join(",", queueNames), worker.Concurrency);
        await RegisterAsync(stoppingToken).ConfigureAwait(false);
        var writing = Task.Run(writer.RunAsync, CancellationToken.None);
        var keeping = Task.Run(() => leases.RunAsync(background.Token), CancellationToken.None);
        var registering = Task.Run(() => RegisterLoopAsync(background.Token), CancellationToken.None);
        try
        {
            await producer.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            executor.ReleasePrefetched();
            await DrainAsync().ConfigureAwait(false);
            // Outcomes still unwritten get a bounded time; the leases stay extended meanwhile.
            writer.Complete(hurry.IsCancellationRequested ? HurriedWriteBudget : worker.ShutdownTimeout + worker.AbandonGrace);
            await writing.ConfigureAwait(false);
            await background.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(keeping, registering).ConfigureAwait(false);
            try
            {
                await storage.Admin.WorkersRemoveAsync(new WorkersRemoveParams(WorkerId), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.StoreCallFailed(logger, ex, WorkerId, nameof(IJobAdminStore.WorkersRemoveAsync));
            }

            Log.WorkerStopped(logger, WorkerId, writer.Released);
        }
    }

    /// <summary>
    /// The producer has stopped: let running attempts finish for the shutdown timeout, then cancel them (they return
    /// their jobs without using an attempt), and give up those that ignore the cancellation after the abandon grace. A
    /// hurried shutdown (the host's timeout passed) skips what is left of both waits.
    /// </summary>
    private async Task DrainAsync()
    {
        var drained = slots.DrainedAsync();
        if (!drained.IsCompleted && worker.ShutdownTimeout > TimeSpan.Zero)
        {
            await WaitAsync(drained, worker.ShutdownTimeout).ConfigureAwait(false);
        }

        if (drained.IsCompleted)
        {
            return;
        }

        foreach (var execution in executor.Running())
        {
            execution.Cancel(StopReason.Shutdown);
        }

        await WaitAsync(drained, worker.AbandonGrace).ConfigureAwait(false);
        foreach (var execution in executor.Running())
        {
            executor.Abandon(execution, executor.ReleaseOutcome(execution));
        }

        // An attempt whose handler finished while it was being given up has its outcome on the way to the writer (it
        // won the race, so it was not given up): wait for it before the writer is told nothing more comes, or it would be
        // dropped and the job run again after its lease expired. Not tied to the hurry: this wait is over in moments.
        if (!drained.IsCompleted)
        {
            await WaitAsync(drained, HurriedWriteBudget, endsOnHurry: false).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for <paramref name="task"/> for at most <paramref name="timeout"/> on the worker's clock, or, when
    /// <paramref name="endsOnHurry"/>, until the shutdown hurries.
    /// </summary>
    private async Task WaitAsync(Task task, TimeSpan timeout, bool endsOnHurry = true)
    {
        using var cts = endsOnHurry ? CancellationTokenSource.CreateLinkedTokenSource(hurry.Token) : new CancellationTokenSource();
        await Task.WhenAny(task, Task.Delay(timeout, time, cts.Token)).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Registers this worker in the store's worker registry (or refreshes its entry).</summary>
    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        try
        {
            await storage.Admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(registration with { Running = slots.Running }), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StoreCallFailed(logger, ex, WorkerId, nameof(IJobAdminStore.WorkersHeartbeatAsync));
        }
    }

    private async Task RegisterLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(worker.EffectiveHeartbeat, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await RegisterAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping while a heartbeat was in flight: the worker still removes itself from the registry.
                return;
            }
        }
    }
}
