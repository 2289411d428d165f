using Npgsql;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>Versioned migrations under an advisory lock.</summary>
internal sealed partial class PostgresStorage
{
    public async ValueTask<MigrationsStatusResult> MigrationsStatusAsync(MigrationsStatusParams parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var (current, _) = await SchemaStateAsync(connection, null, cancellationToken).ConfigureAwait(false);
        return new MigrationsStatusResult(current, LatestVersion, Sql.Migrations.Where(m => m.Version > current).Select(Info).ToList());
    }

    public async ValueTask<MigrationsApplyResult> MigrationsApplyAsync(MigrationsApplyParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await MigrateAsync(connection, includeContract: true, parameters.DryRun, cancellationToken).ConfigureAwait(false);
    }

    private int LatestVersion => Sql.Migrations.Count == 0 ? 0 : Sql.Migrations.Max(m => m.Version);

    private static MigrationInfo Info(PostgresSql.Migration m) =>
        new(m.Version, m.Contract ? m.Description + " (contract: run once no worker of an older version is left)" : m.Description, m.Statements);

    private async Task<(int Current, int MinimumReader)> SchemaStateAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        CancellationToken cancellationToken)
    {
        bool migrations, info;
        await using (var exists = Command(connection, Sql.SchemaTablesExist, migrationTimeout, transaction))
        {
            exists.Add("migrations", Sql.MigrationsTable);
            exists.Add("schema_info", Sql.SchemaInfoTable);
            await using var reader = await exists.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (migrations, info) = (reader.GetBoolean(0), reader.GetBoolean(1));
        }

        async Task<int> ScalarAsync(string sql)
        {
            await using var select = Command(connection, sql, migrationTimeout, transaction);
            return (int)(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        return (migrations ? await ScalarAsync(Sql.SelectSchemaVersion).ConfigureAwait(false) : 0,
            info ? await ScalarAsync(Sql.SelectMinimumReader).ConfigureAwait(false) : 1);
    }

    /// <summary>
    /// Applies missing migrations in one transaction that first takes a transaction-scoped advisory lock on the schema:
    /// processes starting at the same time queue on the lock, and each later one finds the schema current. On an existing
    /// schema contract migrations wait until <paramref name="includeContract"/>; a new schema gets every migration at once.
    /// A schema that needs a newer version of this code is refused, naming both versions.
    /// </summary>
    private async Task<MigrationsApplyResult> MigrateAsync(NpgsqlConnection connection, bool includeContract, bool dryRun, CancellationToken cancellationToken)
    {
        // Reading first, without the lock, lets a current schema start without queueing behind another process's migration.
        var (current, minimumReader) = await SchemaStateAsync(connection, null, cancellationToken).ConfigureAwait(false);
        RefuseNewer(current, minimumReader);
        if (current >= LatestVersion && !dryRun)
        {
            return new MigrationsApplyResult([], current);
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        async Task RunAsync(string sql, Action<NpgsqlCommand>? bind = null)
        {
            await using var command = Command(connection, sql, migrationTimeout, transaction);
            bind?.Invoke(command);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await RunAsync(Sql.MigrationLock, c => c.Add("key", PostgresIdentifiers.AdvisoryLockKey(Sql.Schema, "")));
        await using (var exists = Command(connection, Sql.SchemaExists, migrationTimeout, transaction))
        {
            exists.Add("schema", Sql.Schema);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                await RunAsync(Sql.CreateSchema);
            }
        }

        await RunAsync(Sql.CreateMigrationsTable);
        await RunAsync(Sql.CreateSchemaInfoTable);
        (current, minimumReader) = await SchemaStateAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        RefuseNewer(current, minimumReader);
        var fresh = current == 0;
        var applied = new List<PostgresSql.Migration>();
        foreach (var migration in Sql.Migrations.OrderBy(m => m.Version))
        {
            if (migration.Version <= current)
            {
                continue;
            }

            if (migration.Contract && !fresh && !includeContract)
            {
                LogContractPending(logger, migration.Version, migration.Description, Sql.Schema, Sql.Prefix);
                break;
            }

            applied.Add(migration);
            if (dryRun)
            {
                continue;
            }

            foreach (var statement in migration.Statements)
            {
                await RunAsync(statement);
            }

            await RunAsync(Sql.InsertMigration, c =>
            {
                c.Add("version", migration.Version);
                c.Add("description", migration.Description);
                c.Add("contract", migration.Contract);
            });
            await RunAsync(Sql.SetMinimumReader, c => c.Add("value", migration.MinimumReader));
            current = migration.Version;
        }

        if (dryRun)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            foreach (var migration in applied)
            {
                LogMigrated(logger, migration.Version, migration.Description, Sql.Schema, Sql.Prefix);
            }
        }

        return new MigrationsApplyResult(applied.Select(Info).ToList(), current);
    }

    private void RefuseNewer(int current, int minimumReader)
    {
        if (minimumReader > LatestVersion)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL schema {Sql.Schema}.{Sql.Prefix}* at {Target} has TypedJobs schema version {current}, which needs a version of TypedJobs that understands schema version {minimumReader} or later; this one understands up to {LatestVersion}. Upgrade TypedJobs.");
        }
    }
}
