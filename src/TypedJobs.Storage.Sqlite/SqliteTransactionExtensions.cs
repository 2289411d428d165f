using Microsoft.Data.Sqlite;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite;

/// <summary>
/// Enqueues jobs inside the caller's own SQLite transaction, so a job exists if and only if the caller's other changes
/// commit (the outbox pattern without an outbox).
/// </summary>
public static class SqliteTransactionExtensions
{
    /// <summary>
    /// Inserts <paramref name="jobs"/> in <paramref name="transaction"/>, with the same semantics as
    /// <see cref="IJobStore.JobsInsertAsync"/> (unique keys deduplicate; a duplicate id fails the batch). The schema
    /// must exist (the store creates it when the host starts). Nothing is visible to workers before the caller commits;
    /// workers pick the jobs up at their next poll.
    /// </summary>
    /// <param name="transaction">The caller's open transaction (begin it with <c>BeginTransaction(deferred: false)</c> to avoid lock upgrades).</param>
    /// <param name="jobs">The jobs; build payloads with the task's serializer, for example <c>task.PayloadSerializer.ToBytes(payload)</c>.</param>
    /// <param name="tablePrefix">The store's <see cref="SqliteStorageOptions.TablePrefix"/>.</param>
    /// <param name="timeProvider">The clock for created and due times; the system clock by default.</param>
    /// <param name="cancellationToken">Cancels before the insert starts.</param>
    /// <returns>One outcome per job, in input order.</returns>
    public static ValueTask<JobsInsertResult> EnqueueJobsAsync(this SqliteTransaction transaction, IReadOnlyList<JobInsert> jobs,
        string tablePrefix = SqliteStorageOptions.DefaultTablePrefix, TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(jobs);
        if (!SqliteStorageOptions.IsValidPrefix(tablePrefix))
        {
            throw new ArgumentException($"'{tablePrefix}' is not a valid table prefix: use 1-32 letters, digits or '_', starting with a letter or '_'.", nameof(tablePrefix));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has already completed.");
        var sql = new SqliteSql(tablePrefix);
        var commands = new List<SqliteCommand>();
        try
        {
            var outcomes = SqliteJobs.Insert(sql, text =>
            {
                var command = connection.CreateCommand();
                command.CommandText = text;
                command.Transaction = transaction;
                commands.Add(command);
                return command;
            }, jobs, (timeProvider ?? TimeProvider.System).GetUtcNow(), out _);
            return ValueTask.FromResult(new JobsInsertResult(outcomes));
        }
        finally
        {
            foreach (var command in commands)
            {
                command.Dispose();
            }
        }
    }
}
