using System.Data.Common;

namespace TypedJobs.Storage;

/// <summary>
/// A jobs role that can insert inside the caller's own database transaction
/// (<see cref="StorageCapabilities.TransactionalEnqueue"/>): a job exists if and only if the caller's other changes
/// commit. Applications use it through <c>IJobClient.InTransaction(transaction)</c>, which adds validation, limits,
/// trace context, metrics and events.
/// </summary>
public interface ITransactionalJobStore : IJobStore
{
    /// <summary>
    /// Inserts the jobs with the semantics of <see cref="IJobStore.JobsInsertAsync"/> on the transaction's connection.
    /// Throws <see cref="ArgumentException"/> when the transaction belongs to another database or kind of connection.
    /// </summary>
    ValueTask<JobsInsertInTransactionResult> JobsInsertInTransactionAsync(JobsInsertInTransactionParams parameters,
        CancellationToken cancellationToken);
}

/// <summary>Parameters of <see cref="ITransactionalJobStore.JobsInsertInTransactionAsync"/>.</summary>
/// <param name="Transaction">The caller's open transaction.</param>
/// <param name="Jobs">The jobs.</param>
/// <param name="AfterCommit">Called once after the transaction commits, where the store can observe the commit (not after a rollback).</param>
public sealed record JobsInsertInTransactionParams(DbTransaction Transaction, IReadOnlyList<JobInsert> Jobs, Action? AfterCommit = null);

/// <summary>Result of <see cref="ITransactionalJobStore.JobsInsertInTransactionAsync"/>.</summary>
/// <param name="Outcomes">One outcome per job, in input order.</param>
/// <param name="CommitObserved">
/// Whether the store will call <see cref="JobsInsertInTransactionParams.AfterCommit"/> at commit. When it cannot,
/// workers in this process find the jobs at their next poll.
/// </param>
public sealed record JobsInsertInTransactionResult(IReadOnlyList<JobInsertOutcome> Outcomes, bool CommitObserved);
