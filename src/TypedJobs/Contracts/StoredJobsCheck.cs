using TypedJobs.Storage;

namespace TypedJobs.Contracts;

/// <summary>
/// Checks the data in a store against the deployed task contracts: finds the waiting jobs (scheduled or ready) whose task
/// no deployed contract knows — jobs that no worker will run, and that the first worker to claim one dead-letters after
/// <see cref="TypedJobsOptions.UnknownTaskGracePeriod"/>. A worker host runs it once at startup and logs one line
/// (<see cref="TypedJobsOptions.CheckStoredJobsAtStartup"/>); operators' tools run it on demand.
/// </summary>
/// <remarks>
/// <para>
/// A task counts as known when it is in the given set of task names, or — with
/// <see cref="StoredJobsCheckOptions.IncludeRegisteredWorkers"/>, the default — when a worker in the store's worker
/// registry has registered it (a worker of another deployment that runs it). A worker host passes its
/// <see cref="DeployedContracts"/>: every task it runs and every contract compiled into it. A tool that is not built with
/// the tasks passes nothing and relies on the registry, or passes <see cref="DeployedContracts.FromBaseline"/> of a
/// committed contract baseline.
/// </para>
/// <para>
/// The check lists waiting jobs page by page (<see cref="IJobAdminStore.JobsListAsync"/>, newest first) and stops after
/// <see cref="StoredJobsCheckOptions.MaxJobs"/>; <see cref="StoredJobsReport.Complete"/> then is <see langword="false"/>
/// and the counts are lower bounds. Jobs enqueued or claimed while it runs may be missed or counted twice.
/// </para>
/// </remarks>
public static class StoredJobsCheck
{
    private static readonly JobState[] WaitingStates = [JobState.Ready, JobState.Scheduled];

    /// <summary>Checks the waiting jobs of <paramref name="store"/> against <paramref name="contracts"/> and the worker registry.</summary>
    public static ValueTask<StoredJobsReport> RunAsync(IJobAdminStore store, DeployedContracts contracts, StoredJobsCheckOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        return RunAsync(store, contracts.Tasks.Select(static t => t.Name), options, cancellationToken);
    }

    /// <summary>Checks the waiting jobs of <paramref name="store"/> against the task names <paramref name="knownTasks"/> and the worker registry.</summary>
    public static async ValueTask<StoredJobsReport> RunAsync(IJobAdminStore store, IEnumerable<string> knownTasks, StoredJobsCheckOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(knownTasks);
        options ??= new StoredJobsCheckOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxJobs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.PageSize, 1000);

        var known = new HashSet<string>(knownTasks, StringComparer.Ordinal);
        var fromContracts = known.Count;
        var workerTasks = new SortedSet<string>(StringComparer.Ordinal);
        WorkerContractGroup[] workerContracts = [];
        if (options.IncludeRegisteredWorkers)
        {
            var workers = await store.WorkersListAsync(new WorkersListParams(), cancellationToken).ConfigureAwait(false);
            workerContracts = workers.Workers
                .GroupBy(static w => w.Registration.ContractHash ?? string.Empty, StringComparer.Ordinal)
                .Select(static g => new WorkerContractGroup(g.Key.Length == 0 ? null : g.Key,
                    g.Select(static w => w.Registration.Id).Order(StringComparer.Ordinal).ToArray()))
                .OrderByDescending(static g => g.WorkerIds.Count)
                .ThenBy(static g => g.ContractHash, StringComparer.Ordinal)
                .ToArray();
            foreach (var worker in workers.Workers)
            {
                foreach (var task in worker.Registration.Tasks)
                {
                    workerTasks.Add(task);
                }
            }

            known.UnionWith(workerTasks);
        }

        var unknown = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
        long scanned = 0;
        var complete = true;
        foreach (var state in WaitingStates)
        {
            string? cursor = null;
            do
            {
                var limit = (int)Math.Min(options.PageSize, options.MaxJobs - scanned);
                if (limit <= 0)
                {
                    complete = false;
                    break;
                }

                var page = await store.JobsListAsync(new JobsListParams { Filter = new JobFilter { State = state }, Limit = limit, Cursor = cursor },
                    cancellationToken).ConfigureAwait(false);
                foreach (var job in page.Jobs)
                {
                    scanned++;
                    if (known.Contains(job.TaskName))
                    {
                        continue;
                    }

                    if (!unknown.TryGetValue(job.TaskName, out var entry))
                    {
                        unknown.Add(job.TaskName, entry = new Accumulator());
                    }

                    entry.Add(job);
                }

                cursor = page.NextCursor;
            }
            while (cursor is not null);

            if (!complete)
            {
                break;
            }
        }

        return new StoredJobsReport
        {
            UnknownTasks = unknown
                .Select(static p => new UnknownTaskJobs(p.Key, p.Value.Jobs, [.. p.Value.Queues], p.Value.OldestCreatedAt))
                .OrderByDescending(static u => u.Jobs)
                .ThenBy(static u => u.TaskName, StringComparer.Ordinal)
                .ToArray(),
            JobsScanned = scanned,
            Complete = complete,
            KnownTasks = fromContracts,
            WorkerTasks = [.. workerTasks],
            WorkerContracts = workerContracts,
        };
    }

    private sealed class Accumulator
    {
        public long Jobs { get; private set; }

        public SortedSet<string> Queues { get; } = new(StringComparer.Ordinal);

        public DateTimeOffset OldestCreatedAt { get; private set; } = DateTimeOffset.MaxValue;

        public void Add(JobRecord job)
        {
            Jobs++;
            Queues.Add(job.Queue);
            if (job.CreatedAt < OldestCreatedAt)
            {
                OldestCreatedAt = job.CreatedAt;
            }
        }
    }
}

/// <summary>Settings of <see cref="StoredJobsCheck"/>.</summary>
public sealed record StoredJobsCheckOptions
{
    /// <summary>Whether tasks that a worker in the store's worker registry has registered count as known. Default <see langword="true"/>.</summary>
    public bool IncludeRegisteredWorkers { get; init; } = true;

    /// <summary>The most waiting jobs to read (at least 1). Default 100,000.</summary>
    public int MaxJobs { get; init; } = 100_000;

    /// <summary>Jobs per store call (1-1000). Default 500.</summary>
    public int PageSize { get; init; } = 500;
}

/// <summary>What <see cref="StoredJobsCheck"/> found.</summary>
public sealed record StoredJobsReport
{
    /// <summary>Per task that no deployed contract knows, its waiting jobs; most jobs first.</summary>
    public required IReadOnlyList<UnknownTaskJobs> UnknownTasks { get; init; }

    /// <summary>How many waiting jobs were read.</summary>
    public long JobsScanned { get; init; }

    /// <summary>Whether every waiting job was read (<see langword="false"/> when <see cref="StoredJobsCheckOptions.MaxJobs"/> cut the check short).</summary>
    public bool Complete { get; init; }

    /// <summary>How many task names the caller passed as known.</summary>
    public int KnownTasks { get; init; }

    /// <summary>The task names registered by workers in the store's worker registry (empty when it was not read).</summary>
    public IReadOnlyList<string> WorkerTasks { get; init; } = [];

    /// <summary>
    /// The contract hashes that the workers in the store's worker registry report (<c>WorkerRegistration.ContractHash</c>),
    /// each with its workers, most workers first (empty when the registry was not read). More than one hash means workers
    /// built with different contracts: a rolling deployment under way, or a worker left behind. The registry holds workers
    /// until maintenance prunes them, so a stopped worker may still be listed.
    /// </summary>
    public IReadOnlyList<WorkerContractGroup> WorkerContracts { get; init; } = [];

    /// <summary>The waiting jobs of unknown tasks, in total.</summary>
    public long UnknownJobs => UnknownTasks.Sum(static t => t.Jobs);
}

/// <summary>The waiting jobs of one task that no deployed contract knows.</summary>
/// <param name="TaskName">The task name the jobs carry.</param>
/// <param name="Jobs">How many waiting jobs were found.</param>
/// <param name="Queues">The queues they wait in, by name.</param>
/// <param name="OldestCreatedAt">When the oldest of them was enqueued, by the store's clock.</param>
public sealed record UnknownTaskJobs(string TaskName, long Jobs, IReadOnlyList<string> Queues, DateTimeOffset OldestCreatedAt);

/// <summary>The workers of the registry that report one contract hash.</summary>
/// <param name="ContractHash">The hash (<see cref="DeployedContracts.Hash"/> of the worker's process), or <see langword="null"/> for workers that report none.</param>
/// <param name="WorkerIds">The workers, by id (ordinal).</param>
public sealed record WorkerContractGroup(string? ContractHash, IReadOnlyList<string> WorkerIds);
