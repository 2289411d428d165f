namespace TypedJobs.Storage.Conformance;

/// <summary>
/// A backend that forwards every role operation to another one. Tests and the fault harness derive from it to watch,
/// delay, fail or fake single operations (every call passes through <see cref="InvokeAsync{T}"/>), while the inner
/// backend keeps doing the real work.
/// </summary>
public class DelegatingStorage : IJobStore, IJobAdminStore, ILockStore, IResultStore, IEventStore, IScheduleStore
{
    /// <summary>Wraps <paramref name="inner"/>, an object implementing the role interfaces it will be asked for.</summary>
    public DelegatingStorage(object inner)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
    }

    /// <summary>The backend doing the work.</summary>
    public object Inner { get; }

    /// <inheritdoc />
    public virtual StorageCapabilities Capabilities => Role<IStorageRole>().Capabilities;

    /// <inheritdoc />
    public virtual TimeSpan HotPathTimeout => Role<IJobStore>().HotPathTimeout;

    /// <inheritdoc />
    public virtual ValueTask InitializeAsync(CancellationToken cancellationToken) =>
        InvokeAsync(nameof(InitializeAsync), () => Role<IStorageRole>().InitializeAsync(cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken) =>
        InvokeAsync(nameof(ClockNowAsync), () => Role<IStorageRole>().ClockNowAsync(cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsInsertAsync), () => Role<IJobStore>().JobsInsertAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsClaimAsync), () => Role<IJobStore>().JobsClaimAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsCompleteAsync), () => Role<IJobStore>().JobsCompleteAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(LeasesExtendAsync), () => Role<IJobStore>().LeasesExtendAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsRescueAsync), () => Role<IJobStore>().JobsRescueAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsProgressAsync), () => Role<IJobStore>().JobsProgressAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask JobsWaitAsync(JobsWaitParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsWaitAsync), () => Role<IJobStore>().JobsWaitAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsGetResult> JobsGetAsync(JobsGetParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsGetAsync), () => Role<IJobAdminStore>().JobsGetAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsLocateResult> JobsLocateAsync(JobsLocateParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsLocateAsync), () => Role<IJobAdminStore>().JobsLocateAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsListResult> JobsListAsync(JobsListParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsListAsync), () => Role<IJobAdminStore>().JobsListAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsCountResult> JobsCountAsync(JobsCountParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsCountAsync), () => Role<IJobAdminStore>().JobsCountAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsCancelResult> JobsCancelAsync(JobsCancelParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsCancelAsync), () => Role<IJobAdminStore>().JobsCancelAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsRetryResult> JobsRetryAsync(JobsRetryParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsRetryAsync), () => Role<IJobAdminStore>().JobsRetryAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsDeleteResult> JobsDeleteAsync(JobsDeleteParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsDeleteAsync), () => Role<IJobAdminStore>().JobsDeleteAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsBulkResult> JobsBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsBulkAsync), () => Role<IJobAdminStore>().JobsBulkAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(JobsPruneAsync), () => Role<IJobAdminStore>().JobsPruneAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<QueuesListResult> QueuesListAsync(QueuesListParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(QueuesListAsync), () => Role<IJobAdminStore>().QueuesListAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<QueuesPauseResult> QueuesPauseAsync(QueuesPauseParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(QueuesPauseAsync), () => Role<IJobAdminStore>().QueuesPauseAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<QueuesResumeResult> QueuesResumeAsync(QueuesResumeParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(QueuesResumeAsync), () => Role<IJobAdminStore>().QueuesResumeAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<QueuesClearResult> QueuesClearAsync(QueuesClearParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(QueuesClearAsync), () => Role<IJobAdminStore>().QueuesClearAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(WorkersHeartbeatAsync), () => Role<IJobAdminStore>().WorkersHeartbeatAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<WorkersListResult> WorkersListAsync(WorkersListParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(WorkersListAsync), () => Role<IJobAdminStore>().WorkersListAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(WorkersRemoveAsync), () => Role<IJobAdminStore>().WorkersRemoveAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<WorkersPruneResult> WorkersPruneAsync(WorkersPruneParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(WorkersPruneAsync), () => Role<IJobAdminStore>().WorkersPruneAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<StatsThroughputResult> StatsThroughputAsync(StatsThroughputParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(StatsThroughputAsync), () => Role<IJobAdminStore>().StatsThroughputAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<StatsPruneResult> StatsPruneAsync(StatsPruneParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(StatsPruneAsync), () => Role<IJobAdminStore>().StatsPruneAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<LocksAcquireResult> LocksAcquireAsync(LocksAcquireParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(LocksAcquireAsync), () => Role<ILockStore>().LocksAcquireAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<LocksReleaseResult> LocksReleaseAsync(LocksReleaseParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(LocksReleaseAsync), () => Role<ILockStore>().LocksReleaseAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(ResultsSetAsync), () => Role<IResultStore>().ResultsSetAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(ResultsGetAsync), () => Role<IResultStore>().ResultsGetAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(ResultsDeleteAsync), () => Role<IResultStore>().ResultsDeleteAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(ResultsPruneAsync), () => Role<IResultStore>().ResultsPruneAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(EventsAppendAsync), () => Role<IEventStore>().EventsAppendAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(EventsListAsync), () => Role<IEventStore>().EventsListAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<EventsPruneResult> EventsPruneAsync(EventsPruneParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(EventsPruneAsync), () => Role<IEventStore>().EventsPruneAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(SchedulesUpsertAsync), () => Role<IScheduleStore>().SchedulesUpsertAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(SchedulesGetAsync), () => Role<IScheduleStore>().SchedulesGetAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(SchedulesListAsync), () => Role<IScheduleStore>().SchedulesListAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(SchedulesDeleteAsync), () => Role<IScheduleStore>().SchedulesDeleteAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(SchedulesAdvanceAsync), () => Role<IScheduleStore>().SchedulesAdvanceAsync(parameters, cancellationToken));

    /// <inheritdoc />
    public virtual ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken) =>
        InvokeAsync(nameof(SchedulesDueAsync), () => Role<IScheduleStore>().SchedulesDueAsync(parameters, cancellationToken));

    /// <summary>Every operation with a result passes through here; the default runs it.</summary>
    protected virtual ValueTask<T> InvokeAsync<T>(string operation, Func<ValueTask<T>> call) => call();

    /// <summary>Every operation without a result passes through here; the default runs it.</summary>
    protected virtual ValueTask InvokeAsync(string operation, Func<ValueTask> call) => call();

    private T Role<T>()
        where T : class =>
        Inner as T ?? throw new NotSupportedException($"{Inner.GetType().Name} does not implement {typeof(T).Name}.");
}
