using System.Globalization;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>Schema creation and versioned migrations under <c>GET_LOCK</c>; the server checks and the startup errors.</summary>
internal sealed partial class MySqlStorage
{
    public async ValueTask InitializeAsync(CancellationToken cancellationToken) =>
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);

    private Task EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        var task = Volatile.Read(ref initialized);
        if (task is { IsCompletedSuccessfully: true })
        {
            return task;
        }

        lock (initGate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (initialized is null || initialized.IsFaulted || initialized.IsCanceled)
            {
                initialized = Task.Run(() => MigrateAsync(options.ApplyContractMigrations, dryRun: false, CancellationToken.None), CancellationToken.None);
            }

            return initialized.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask<MigrationsStatusResult> MigrationsStatusAsync(MigrationsStatusParams parameters, CancellationToken cancellationToken)
    {
        return await ConnectAsync(async (connection, ct) =>
        {
            var (current, _) = await ReadVersionAsync(connection, ct).ConfigureAwait(false);
            return new MigrationsStatusResult(current, Sql.SchemaVersion, Sql.Migrations.Where(m => m.Version > current).Select(Info).ToList());
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<MigrationsApplyResult> MigrationsApplyAsync(MigrationsApplyParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return await MigrateAsync(includeContract: true, parameters.DryRun, cancellationToken).ConfigureAwait(false);
    }

    private static MigrationInfo Info(MySqlSql.Migration m) =>
        new(m.Version, m.Contract ? m.Description + " (contract: run once no worker of an older version is left)" : m.Description, m.Statements);

    /// <summary>
    /// Applies missing migrations while holding the migration lock (<c>GET_LOCK</c> on the database and prefix): a second
    /// process starting at the same time waits for the lock, then finds the schema current and does nothing. On an
    /// existing database contract migrations wait until <paramref name="includeContract"/>; a new database gets every
    /// migration at once.
    /// </summary>
    private Task<MigrationsApplyResult> MigrateAsync(bool includeContract, bool dryRun, CancellationToken cancellationToken) =>
        ConnectAsync(async (connection, ct) =>
        {
            CheckServer(connection.ServerVersion);
            await using (var info = Command(connection, Sql.ServerInfo, Kind.Migration))
            await using (var reader = await info.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(ct).ConfigureAwait(false) && !reader.GetString(1).Contains("STRICT_", StringComparison.OrdinalIgnoreCase))
                {
                    LogNotStrict(logger, reader.GetString(1));
                }
            }

            var waitSeconds = Math.Max(1, (int)Math.Ceiling(options.MigrationTimeout.TotalSeconds));
            await using (var acquire = Command(connection, Sql.AcquireMigrationLock, Kind.Migration))
            {
                acquire.Add("@prefix", Sql.Prefix);
                acquire.Add("@timeout", waitSeconds);
                var taken = await acquire.ExecuteScalarAsync(ct).ConfigureAwait(false);
                if (taken is null or DBNull || Convert.ToInt64(taken, CultureInfo.InvariantCulture) != 1)
                {
                    throw new TimeoutException(
                        $"The MySQL store ({Server}, database '{Database}', tables '{Sql.Prefix}*') could not take the migration lock within {options.MigrationTimeout}: another process holds it. Retry, or raise MigrationTimeout.");
                }
            }

            try
            {
                return await ApplyAsync(connection, includeContract, dryRun, ct).ConfigureAwait(false);
            }
            finally
            {
                await using var release = Command(connection, Sql.ReleaseMigrationLock, Kind.Migration);
                release.Add("@prefix", Sql.Prefix);
                await release.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }, cancellationToken);

    private async Task<MigrationsApplyResult> ApplyAsync(MySqlConnection connection, bool includeContract, bool dryRun, CancellationToken ct)
    {
        var (current, minimumReader) = await ReadVersionAsync(connection, ct).ConfigureAwait(false);
        if (minimumReader > Sql.SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The MySQL database '{Database}' on {Server} has TypedJobs schema version {current} (tables '{Sql.Prefix}*'), which needs a version of TypedJobs that understands schema version {minimumReader} or later; this one understands up to {Sql.SchemaVersion}. Upgrade TypedJobs.");
        }

        var fresh = current == 0;
        var applied = new List<MigrationInfo>();
        if (!dryRun)
        {
            await ExecuteAsync(connection, Sql.CreateMigrationsTable, ct).ConfigureAwait(false);
            await ExecuteAsync(connection, Sql.CreateSchemaTable, ct).ConfigureAwait(false);
        }

        foreach (var migration in Sql.Migrations)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            if (migration.Contract && !fresh && !includeContract)
            {
                LogContractPending(logger, migration.Version, migration.Description, Sql.Prefix);
                break;
            }

            applied.Add(Info(migration));
            if (dryRun)
            {
                continue;
            }

            foreach (var statement in migration.Statements)
            {
                await ExecuteAsync(connection, statement, ct).ConfigureAwait(false);
            }

            await using (var floor = Command(connection, Sql.SetMinimumReader, Kind.Migration))
            {
                floor.Add("@value", migration.MinimumReader);
                await floor.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            await using (var record = Command(connection, Sql.InsertMigration, Kind.Migration))
            {
                record.Add("@version", migration.Version);
                record.Add("@description", migration.Description);
                record.Add("@contract", migration.Contract ? 1 : 0);
                await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            current = migration.Version;
            LogMigrated(logger, migration.Version, migration.Description, Sql.Prefix, Database);
        }

        return new MigrationsApplyResult(applied, current);
    }

    private async Task<(int Current, int MinimumReader)> ReadVersionAsync(MySqlConnection connection, CancellationToken ct)
    {
        if (!await TableExistsAsync(connection, Sql.Prefix + "migrations", ct).ConfigureAwait(false))
        {
            return (0, 0);
        }

        int current;
        await using (var select = Command(connection, Sql.SelectSchemaVersion, Kind.Migration))
        {
            current = Convert.ToInt32(await select.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        var minimumReader = 1;
        if (await TableExistsAsync(connection, Sql.Prefix + "schema", ct).ConfigureAwait(false))
        {
            await using var select = Command(connection, Sql.SelectMinimumReader, Kind.Migration);
            if (await select.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull)
            {
                minimumReader = Convert.ToInt32(value, CultureInfo.InvariantCulture);
            }
        }

        return (current, minimumReader);
    }

    private async Task<bool> TableExistsAsync(MySqlConnection connection, string table, CancellationToken ct)
    {
        await using var exists = Command(connection, Sql.TableExists, Kind.Migration);
        exists.Add("@name", table);
        return Convert.ToInt64(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
    }

    private async Task ExecuteAsync(MySqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = Command(connection, sql, Kind.Migration);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a connection for schema work, turning a failure to connect into a message that says where and as whom
    /// (never the password) and what to check.
    /// </summary>
    private async Task<T> ConnectAsync<T>(Func<MySqlConnection, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.MigrationTimeout);
        MySqlConnection connection;
        try
        {
            connection = await dataSource.OpenConnectionAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            var user = new MySqlConnectionStringBuilder(dataSource.ConnectionString).UserID;
            var hint = ex.ErrorCode switch
            {
                MySqlErrorCode.AccessDenied or MySqlErrorCode.UnableToConnectToHost when ex.Message.Contains("Access denied", StringComparison.OrdinalIgnoreCase)
                    => "the server refused the user name or password",
                MySqlErrorCode.AccessDenied => "the server refused the user name or password",
                MySqlErrorCode.UnknownDatabase => "the database does not exist (create it first)",
                MySqlErrorCode.DatabaseAccessDenied => "the user may not use this database",
                MySqlErrorCode.UnableToConnectToHost => "no server answered at that address (is it running and reachable?)",
                _ => "check the server address, the credentials and the TLS settings",
            };
            throw new InvalidOperationException(
                $"The MySQL store cannot connect to {Server} (database '{Database}', user '{user}'): {hint}. Server said: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The MySQL store could not connect to {Server} (database '{Database}') within {options.MigrationTimeout}.", ex);
        }

        await using (connection.ConfigureAwait(false))
        {
            return await body(connection, deadline.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Refuses servers without <c>FOR UPDATE SKIP LOCKED</c>: MySQL before 8.0.1 and MariaDB before 10.6.</summary>
    internal static void CheckServer(string version)
    {
        var mariaDb = version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        var digits = version.Split('-')[0];
        // MariaDB once reported itself as "5.5.5-10.x"; the real version follows the prefix.
        if (mariaDb && digits == "5.5.5" && version.Split('-') is { Length: > 1 } parts)
        {
            digits = parts[1];
        }

        if (!Version.TryParse(digits, out var parsed))
        {
            return;
        }

        var minimum = mariaDb ? new Version(10, 6) : new Version(8, 0, 1);
        if (parsed < minimum)
        {
            throw new NotSupportedException(
                $"The MySQL store needs {(mariaDb ? "MariaDB 10.6" : "MySQL 8.0.1")} or later (for FOR UPDATE SKIP LOCKED); the server is {version}.");
        }
    }

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Applied TypedJobs MySQL schema version {Version} ({Description}) to tables '{Prefix}*' of database '{Database}'")]
    private static partial void LogMigrated(ILogger logger, int version, string description, string prefix, string database);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "TypedJobs MySQL schema version {Version} ({Description}) of tables '{Prefix}*' is a contract migration: apply it with 'typedjobs migrate' (or ApplyContractMigrations) once no worker of an older version uses the database")]
    private static partial void LogContractPending(ILogger logger, int version, string description, string prefix);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Warning, Message = "The MySQL session's sql_mode '{SqlMode}' is not strict: a value too long for its column would be truncated instead of refused. Add STRICT_TRANS_TABLES to the server's sql_mode")]
    private static partial void LogNotStrict(ILogger logger, string sqlMode);
}
