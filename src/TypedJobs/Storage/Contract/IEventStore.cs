using TypedJobs.Events;

namespace TypedJobs.Storage;

/// <summary>The events role: a history of lifecycle events, listed per job.</summary>
public interface IEventStore : IStorageRole
{
    /// <summary>Appends events in order.</summary>
    ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken);

    /// <summary>Lists events in the order they were appended.</summary>
    ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes up to a maximum of events whose timestamp is older than an age (by the store's clock).</summary>
    ValueTask<EventsPruneResult> EventsPruneAsync(EventsPruneParams parameters, CancellationToken cancellationToken);
}

/// <summary>Parameters of <see cref="IEventStore.EventsAppendAsync"/>.</summary>
/// <param name="Events">The events, oldest first.</param>
public sealed record EventsAppendParams(IReadOnlyList<JobEvent> Events);

/// <summary>Result of <see cref="IEventStore.EventsAppendAsync"/>.</summary>
public sealed record EventsAppendResult;

/// <summary>Parameters of <see cref="IEventStore.EventsListAsync"/>.</summary>
/// <param name="JobId">Only events of this job.</param>
/// <param name="Limit">The most events, oldest first.</param>
public sealed record EventsListParams(JobId? JobId = null, int Limit = 100);

/// <summary>Result of <see cref="IEventStore.EventsListAsync"/>.</summary>
/// <param name="Events">The events, oldest first.</param>
public sealed record EventsListResult(IReadOnlyList<JobEvent> Events);

/// <summary>Parameters of <see cref="IEventStore.EventsPruneAsync"/>.</summary>
/// <param name="OlderThan">Delete events older than this.</param>
/// <param name="Max">The most events to delete in one call.</param>
public sealed record EventsPruneParams(TimeSpan OlderThan, int Max = 10_000);

/// <summary>Result of <see cref="IEventStore.EventsPruneAsync"/>.</summary>
/// <param name="Deleted">How many events were deleted.</param>
public sealed record EventsPruneResult(int Deleted);
