namespace TypedJobs.Storage;

/// <summary>
/// The results role: the values tasks return, with a time to live. A result is keyed by its job and the lease token
/// of the attempt that produced it; the job records which attempt succeeded (<see cref="JobRecord.SucceededLeaseToken"/>),
/// so a stale attempt's late result is never returned. When this role shares a backend with the jobs role, the engine
/// instead hands the result to the completion, which writes both in one atomic step.
/// </summary>
public interface IResultStore : IStorageRole
{
    /// <summary>Stores results (overwriting one with the same job and lease token).</summary>
    ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken);

    /// <summary>Gets a result that has not expired (by the store's clock).</summary>
    ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes every result of the given jobs.</summary>
    ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes up to a maximum of expired results.</summary>
    ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken);
}

/// <summary>A result to store.</summary>
/// <param name="JobId">The job.</param>
/// <param name="LeaseToken">The lease token of the attempt that produced it.</param>
/// <param name="Value">The serialized result.</param>
/// <param name="Ttl">How long to keep it, from the store's clock.</param>
public readonly record struct ResultWrite(JobId JobId, Guid LeaseToken, byte[] Value, TimeSpan Ttl);

/// <summary>A stored job result.</summary>
/// <param name="Value">The serialized result.</param>
/// <param name="ExpiresAt">When it expires, by the store's clock.</param>
public sealed record StoredResult(byte[] Value, DateTimeOffset ExpiresAt);

/// <summary>Parameters of <see cref="IResultStore.ResultsSetAsync"/>.</summary>
/// <param name="Results">The results.</param>
public sealed record ResultsSetParams(IReadOnlyList<ResultWrite> Results);

/// <summary>Result of <see cref="IResultStore.ResultsSetAsync"/>.</summary>
public sealed record ResultsSetResult;

/// <summary>Parameters of <see cref="IResultStore.ResultsGetAsync"/>.</summary>
/// <param name="JobId">The job.</param>
/// <param name="LeaseToken">
/// The lease token of the attempt whose result is wanted (<see cref="JobRecord.SucceededLeaseToken"/>), or
/// <see cref="Guid.Empty"/> for a job that an older version completed without recording one: a store that kept results
/// keyed by job alone returns that result, others none.
/// </param>
public sealed record ResultsGetParams(JobId JobId, Guid LeaseToken);

/// <summary>Result of <see cref="IResultStore.ResultsGetAsync"/>.</summary>
/// <param name="Result">The result, or <see langword="null"/> when it is missing or expired.</param>
public sealed record ResultsGetResult(StoredResult? Result);

/// <summary>Parameters of <see cref="IResultStore.ResultsDeleteAsync"/>.</summary>
/// <param name="JobIds">The jobs.</param>
public sealed record ResultsDeleteParams(IReadOnlyList<JobId> JobIds);

/// <summary>Result of <see cref="IResultStore.ResultsDeleteAsync"/>.</summary>
/// <param name="Deleted">How many results were deleted.</param>
public sealed record ResultsDeleteResult(int Deleted);

/// <summary>Parameters of <see cref="IResultStore.ResultsPruneAsync"/>.</summary>
/// <param name="Max">The most results to delete in one call.</param>
public sealed record ResultsPruneParams(int Max = 10_000);

/// <summary>Result of <see cref="IResultStore.ResultsPruneAsync"/>.</summary>
/// <param name="Deleted">How many results were deleted.</param>
public sealed record ResultsPruneResult(int Deleted);
