using System.Globalization;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>Server settings that can lose or delay jobs, reported for health checks and the CLI.</summary>
internal sealed partial class MySqlStorage : IStorageDiagnostics
{
    public async ValueTask<StorageDiagnoseResult> StorageDiagnoseAsync(StorageDiagnoseParams parameters, CancellationToken cancellationToken)
    {
        var findings = await RunAsync(Kind.Admin, async (connection, ct) =>
        {
            var found = new List<StorageFinding>();
            await using var command = Command(connection, Sql.Diagnose, Kind.Admin);
            command.Add("@name", Sql.Prefix + "jobs");
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            var version = reader.GetString(0);
            var flush = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            var sqlMode = reader.GetString(2);
            var lockWait = Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture);
            found.Add(new StorageFinding(StorageFindingSeverity.Info, "mysql.version", $"Server {version} ({Server}, database '{Database}', tables '{Sql.Prefix}*')."));
            if (flush != 1)
            {
                found.Add(new StorageFinding(StorageFindingSeverity.Warning, "mysql.innodb_flush_log_at_trx_commit",
                    $"innodb_flush_log_at_trx_commit is {flush}: a crash of the server or its machine can lose the last second of commits, including acknowledged enqueues and completions. Set it to 1."));
            }

            if (!sqlMode.Contains("STRICT_", StringComparison.OrdinalIgnoreCase))
            {
                found.Add(new StorageFinding(StorageFindingSeverity.Warning, "mysql.sql_mode",
                    $"sql_mode '{sqlMode}' is not strict: a value too long for its column is truncated instead of refused. Add STRICT_TRANS_TABLES."));
            }

            if (TimeSpan.FromSeconds(lockWait) < options.HotPathTimeout)
            {
                found.Add(new StorageFinding(StorageFindingSeverity.Info, "mysql.innodb_lock_wait_timeout",
                    $"innodb_lock_wait_timeout ({lockWait} s) is shorter than the hot-path timeout ({options.HotPathTimeout}); lock waits end first and are retried."));
            }

            await reader.NextResultAsync(ct).ConfigureAwait(false);
            if (await reader.ReadAsync(ct).ConfigureAwait(false) && !string.Equals(reader.GetString(0), "InnoDB", StringComparison.OrdinalIgnoreCase))
            {
                found.Add(new StorageFinding(StorageFindingSeverity.Error, "mysql.engine",
                    $"The table '{Sql.Prefix}jobs' uses the {reader.GetString(0)} engine: claims need InnoDB's row locks and transactions."));
            }

            return found;
        }, cancellationToken).ConfigureAwait(false);
        return new StorageDiagnoseResult(findings);
    }
}
