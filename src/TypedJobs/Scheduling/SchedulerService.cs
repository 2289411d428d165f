using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Scheduling;

/// <summary>
/// One scheduler instance (a hosted service). At start it upserts the schedules declared in code; then it sleeps until
/// the next due occurrence (at most <see cref="SchedulerOptions.PollInterval"/>, or until a schedule changes in this
/// process), enqueues every due occurrence with a unique key made of the schedule's name and the occurrence instant,
/// and moves the schedule forward with an optimistic update. Any number of instances may run on one store without a
/// leader: two instances that race for an occurrence insert one job, and only one of them advances the schedule.
/// </summary>
internal sealed class SchedulerService : StoreLoopService
{
    private const int DueBatch = 500;

    private readonly ScheduleAdmin admin;
    private readonly TaskRegistry registry;
    private readonly IJobClient client;
    private readonly SchedulerOptions options;
    private readonly bool manual;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly HashSet<string> reportedUnknown = new(StringComparer.Ordinal);
    private IReadOnlyList<ScheduleRecord> declared = [];
    private bool synced;
    private long passes;
    private long lastPassTicks;

    public SchedulerService(ScheduleAdmin admin, TaskRegistry registry, IJobClient client, TypedJobsOptions options, TimeProvider time,
        ILogger<SchedulerService> logger)
    {
        this.admin = admin;
        this.registry = registry;
        this.client = client;
        this.options = options.Scheduler;
        manual = options.ManualExecution;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>Completed passes (for tests and diagnostics).</summary>
    internal long Passes => Interlocked.Read(ref passes);

    /// <summary>The clock reading the last completed pass worked with.</summary>
    internal DateTimeOffset LastPassAt => new(Interlocked.Read(ref lastPassTicks), TimeSpan.Zero);

    /// <summary>Makes the scheduler re-read the schedules now.</summary>
    internal void Wake() => admin.Changed.Set();

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Enabled)
        {
            SchedulerLog.Disabled(logger);
            return;
        }

        // Invalid declarations stop the host: they are configuration errors, not transient ones.
        declared = admin.DeclaredSchedules();
        if (!admin.HasStore)
        {
            if (declared.Count > 0)
            {
                throw new InvalidOperationException(
                    $"{declared.Count} tasks declare schedules (e.g. '{declared[0].Name}') but no storage is assigned to the Schedules role.");
            }

            return;
        }

        try
        {
            await admin.SyncDeclaredAsync(declared, cancellationToken).ConfigureAwait(false);
            synced = true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            SchedulerLog.PassFailed(logger, ex, options.PollInterval);
        }

        SchedulerLog.Started(logger, declared.Count);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the scheduler is enabled and has a schedules store (the testing kit runs its passes only then).</summary>
    internal bool CanRun => options.Enabled && admin.HasStore;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (manual)
        {
            // The testing kit calls PassAsync itself, in the test's flow.
            return;
        }

        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            // Subscribe before reading, so a change made during the pass is not missed.
            var changed = admin.Changed.WaitAsync(CancellationToken.None).AsTask();
            TimeSpan delay;
            try
            {
                if (!synced)
                {
                    await admin.SyncDeclaredAsync(declared, stoppingToken).ConfigureAwait(false);
                    synced = true;
                }

                delay = await PassAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                delay = options.PollInterval;
                SchedulerLog.PassFailed(logger, ex, delay);
            }

            if (delay <= TimeSpan.Zero)
            {
                continue;
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var sleep = Task.Delay(delay, time, cts.Token);
            await Task.WhenAny(sleep, changed).ConfigureAwait(false);
            await cts.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One pass in the caller's flow (the testing kit), storing the declared schedules first if that has not worked yet.</summary>
    internal async Task ManualPassAsync(CancellationToken cancellationToken)
    {
        if (!synced)
        {
            await admin.SyncDeclaredAsync(declared, cancellationToken).ConfigureAwait(false);
            synced = true;
        }

        await PassAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Enqueues every due occurrence and returns how long to sleep before the next pass.</summary>
    internal async Task<TimeSpan> PassAsync(CancellationToken cancellationToken)
    {
        var store = await admin.StoreAsync(cancellationToken).ConfigureAwait(false);
        // The store's clock decides what is due; the engine only sleeps for durations.
        var result = await store.SchedulesDueAsync(new SchedulesDueParams(DueBatch), cancellationToken).ConfigureAwait(false);
        var now = result.Now;
        var fired = 0;
        foreach (var schedule in result.Schedules)
        {
            if (!registry.TryGet(schedule.TaskName, out _))
            {
                lock (reportedUnknown)
                {
                    if (reportedUnknown.Add(schedule.Name))
                    {
                        SchedulerLog.UnknownTask(logger, schedule.Name, schedule.TaskName);
                    }
                }

                continue;
            }

            try
            {
                await FireAsync(store, schedule, now, cancellationToken).ConfigureAwait(false);
                fired++;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                SchedulerLog.FireFailed(logger, ex, schedule.Name);
            }
        }

        var delay = options.PollInterval;
        if (result.Schedules.Count >= DueBatch && fired > 0)
        {
            delay = TimeSpan.Zero;
        }
        else if (result.NextDueAt is { } next && next - now < delay)
        {
            // Due schedules this instance could not fire (unknown task, a failed enqueue) wait for the poll.
            delay = next - now;
        }

        Interlocked.Exchange(ref lastPassTicks, now.UtcTicks);
        Interlocked.Increment(ref passes);
        return delay;
    }

    private async Task FireAsync(IScheduleStore store, ScheduleRecord schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var first = schedule.NextRunAt!.Value;
        var policy = options.MissedRuns;
        var due = admin.Occurrences.LastDue(schedule, first, now, policy == MissedRunPolicy.RunAll ? options.MaxCatchUpRuns : 1);
        var fire = due;
        if (policy == MissedRunPolicy.Skip && due.Count > 0 && now - due[^1] > options.LateTolerance)
        {
            fire = [];
        }

        if (due.Count > 0 && (fire.Count == 0 || fire[0] != first))
        {
            SchedulerLog.Missed(logger, schedule.Name, first, due[^1], fire.Count, policy);
        }

        var payload = ScheduleAdmin.PayloadOf(schedule);
        foreach (var occurrence in fire)
        {
            var id = await client.EnqueueSerializedAsync(schedule.TaskName, payload,
                new JobOptions { UniqueKey = Occurrences.Key(schedule.Name, occurrence), UniqueUntilPruned = true },
                cancellationToken).ConfigureAwait(false);
            SchedulerLog.Fired(logger, schedule.Name, occurrence, id);
        }

        var floor = ScheduleAdmin.Floor(schedule, now);
        if (fire.Count > 0 && fire[^1] > floor)
        {
            floor = fire[^1];
        }

        var next = admin.Occurrences.Next(schedule, floor);
        var advanced = await store.SchedulesAdvanceAsync(
            new SchedulesAdvanceParams(schedule.Name, schedule.Version, fire.Count > 0 ? fire[^1] : null, next), cancellationToken).ConfigureAwait(false);
        if (advanced.Schedule is null)
        {
            SchedulerLog.LostRace(logger, schedule.Name);
        }
    }
}
