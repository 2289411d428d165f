using Npgsql;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>Transactional enqueue on the caller's <see cref="NpgsqlTransaction"/> (also what EF Core's <c>GetDbTransaction()</c> returns).</summary>
internal sealed partial class PostgresStorage
{
    private PendingCommits? commits;

    /// <summary>The callbacks waiting for callers' commits.</summary>
    public PendingCommits Commits => LazyInitializer.EnsureInitialized(ref commits, () => new PendingCommits(JobExistsAsync));

    private async Task<bool> JobExistsAsync(JobId id, CancellationToken cancellationToken) =>
        (await JobsGetAsync(new JobsGetParams(id), cancellationToken).ConfigureAwait(false)).Job is not null;

    public async ValueTask<JobsInsertInTransactionResult> JobsInsertInTransactionAsync(JobsInsertInTransactionParams parameters,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Transaction is not NpgsqlTransaction transaction)
        {
            throw new ArgumentException(
                $"The Jobs role is on PostgreSQL ({Target}), so the transaction must be an NpgsqlTransaction on that database (with EF Core: Database.CurrentTransaction.GetDbTransaction()), not a {parameters.Transaction.GetType().Name}.",
                nameof(parameters));
        }

        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has already completed.");
        if (!string.Equals(connection.Database, TargetDatabase, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The transaction is on the PostgreSQL database '{connection.Database}' ({connection.Host}:{connection.Port}), but the Jobs role is on {Target}.",
                nameof(parameters));
        }

        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        var observed = notifier is not null;
        var outcomes = new JobInsertOutcome[parameters.Jobs.Count];
        if (parameters.Jobs.Count == 0)
        {
            return new JobsInsertInTransactionResult(outcomes, observed);
        }

        // The ids are known before the insert: a commit is later confirmed by finding the first one that this call inserts.
        string? payload = null;
        if (observed)
        {
            var afterCommit = parameters.AfterCommit;
            var dueNow = AnyDueNow(parameters.Jobs);
            var firstNew = (JobId?)parameters.Jobs[0].Id;
            payload = Commits.Add(transaction, firstNew, () =>
            {
                if (dueNow)
                {
                    signal.Set();
                }

                afterCommit?.Invoke();
            });
        }

        try
        {
            outcomes = await InsertCoreAsync(connection, transaction, parameters.Jobs, payload, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (payload is not null)
            {
                Commits.Forget(payload);
            }

            throw;
        }

        if (payload is not null)
        {
            Commits.SetProbe(payload, outcomes.FirstOrDefault(o => o.Inserted) is { Inserted: true } first ? first.Id : null);
        }

        return new JobsInsertInTransactionResult(outcomes, observed);
    }
}
