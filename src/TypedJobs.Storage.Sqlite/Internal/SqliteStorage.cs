using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TypedJobs.Storage.Sqlite.Internal.SqliteJobs;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>
/// The SQLite backend for every storage role. Writes go through one <see cref="SqliteWriter"/> (group commit on a
/// dedicated connection); reads use pooled connections and see the last committed state (WAL). The store's clock is
/// the injected <see cref="TimeProvider"/>: with several processes on one file their clocks must agree (same machine).
/// </summary>
internal sealed partial class SqliteStorage : IJobStore, IJobAdminStore, ILockStore, IResultStore, IEventStore, IScheduleStore,
    ITransactionalJobStore, IStorageMigrations, IAsyncDisposable, IDisposable
{
    private readonly SqliteStorageOptions options;
    private readonly string connectionString;
    private readonly string readConnectionString;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly AsyncSignal signal = new();
    private readonly object initGate = new();
    private Task<SqliteWriter>? initialized;
    private bool disposed;

    public SqliteStorage(SqliteStorageOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Clone();
        var validated = this.options.Validate();
        var builder = new SqliteConnectionStringBuilder(validated)
        {
            // Microsoft.Data.Sqlite retries a busy statement until this many whole seconds have passed, and without end
            // at 0; the busy_timeout pragma set on each connection does the precise wait inside SQLite.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(this.options.BusyTimeout.TotalSeconds)),
        };
        DatabasePath = Path.GetFullPath(builder.DataSource);
        builder.Pooling = false;
        connectionString = builder.ToString();
        builder.Pooling = true;
        readConnectionString = builder.ToString();
        Sql = new SqliteSql(this.options.TablePrefix);
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
    }

    public SqliteSql Sql { get; }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    public StorageCapabilities Capabilities =>
        StorageCapabilities.TransactionalEnqueue | StorageCapabilities.Durable | StorageCapabilities.TextSearch | StorageCapabilities.Migrations;

    /// <summary>How long a hot-path write waits for another process's write lock (the busy timeout).</summary>
    public TimeSpan HotPathTimeout => options.BusyTimeout;

    /// <summary>Wakes in-process workers (after a transactional enqueue committed on a caller's connection).</summary>
    public void Wake() => signal.Set();

    public async ValueTask InitializeAsync(CancellationToken cancellationToken) =>
        await WriterAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken) => ValueTask.FromResult(time.GetUtcNow());

    private long NowTicks() => Ticks(time.GetUtcNow());

    private Task<SqliteWriter> WriterAsync(CancellationToken cancellationToken)
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
                initialized = Task.Run(StartWriter, CancellationToken.None);
            }

            return initialized.WaitAsync(cancellationToken);
        }
    }

    private SqliteWriter StartWriter()
    {
        if (Path.GetDirectoryName(DatabasePath) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }

        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            Execute(connection, SqlitePragmas.JournalModeWal);
            Execute(connection, SqlitePragmas.Synchronous(options.Synchronous));
            Migrate(connection, options.ApplyContractMigrations, dryRun: false);
            Execute(connection, SqlitePragmas.BusyTimeout(options.BusyTimeout));
            return new SqliteWriter(connection, options.MaxWriteBatch, signal.Set, logger);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- migrations

    public async ValueTask<MigrationsStatusResult> MigrationsStatusAsync(MigrationsStatusParams parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await Task.Yield();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, SqlitePragmas.BusyTimeout(options.MigrationTimeout));
        using var exists = connection.CreateCommand();
        exists.CommandText = $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{options.TablePrefix}migrations'";
        var current = 0;
        if ((long)exists.ExecuteScalar()! > 0)
        {
            using var select = connection.CreateCommand();
            select.CommandText = Sql.SelectSchemaVersion;
            current = (int)(long)select.ExecuteScalar()!;
        }

        return new MigrationsStatusResult(current, SqliteSql.SchemaVersion,
            Sql.Migrations.Where(m => m.Version > current).Select(Info).ToList());
    }

    public async ValueTask<MigrationsApplyResult> MigrationsApplyAsync(MigrationsApplyParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        cancellationToken.ThrowIfCancellationRequested();
        return await Task.Run(() =>
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            Execute(connection, SqlitePragmas.JournalModeWal);
            return Migrate(connection, includeContract: true, parameters.DryRun);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static MigrationInfo Info(SqliteSql.Migration m) =>
        new(m.Version, m.Contract ? m.Description + " (contract: run once no worker of an older version is left)" : m.Description, m.Statements);

    /// <summary>
    /// Applies missing migrations in one <c>BEGIN IMMEDIATE</c> transaction: a second process starting at the same
    /// time waits for the write lock, then finds the schema current and does nothing. On an existing database contract
    /// migrations wait until <paramref name="includeContract"/>; a new database gets every migration at once.
    /// </summary>
    private MigrationsApplyResult Migrate(SqliteConnection connection, bool includeContract, bool dryRun)
    {
        Execute(connection, SqlitePragmas.BusyTimeout(options.MigrationTimeout));
        using var transaction = connection.BeginTransaction(deferred: false);
        SqliteCommand Command(string sql)
        {
            var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            return command;
        }

        using (var create = Command(Sql.CreateMigrationsTable))
        {
            create.ExecuteNonQuery();
        }

        int current;
        using (var select = Command(Sql.SelectSchemaVersion))
        {
            current = (int)(long)select.ExecuteScalar()!;
        }

        var minimumReader = 1L;
        using (var exists = Command(Sql.SchemaTableExists))
        {
            if ((long)exists.ExecuteScalar()! > 0)
            {
                using var select = Command(Sql.SelectMinimumReader);
                minimumReader = select.ExecuteScalar() as long? ?? 1;
            }
        }

        if (minimumReader > SqliteSql.SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The SQLite database '{DatabasePath}' has TypedJobs schema version {current} (tables '{options.TablePrefix}*'), which needs a version of TypedJobs that understands schema version {minimumReader} or later; this one understands up to {SqliteSql.SchemaVersion}. Upgrade TypedJobs.");
        }

        var fresh = current == 0;
        var applied = new List<MigrationInfo>();
        foreach (var migration in Sql.Migrations)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            if (migration.Contract && !fresh && !includeContract)
            {
                LogContractPending(logger, migration.Version, migration.Description, options.TablePrefix);
                break;
            }

            applied.Add(Info(migration));
            if (dryRun)
            {
                continue;
            }

            foreach (var statement in migration.Statements)
            {
                using var command = Command(statement);
                command.ExecuteNonQuery();
            }

            using var record = Command(Sql.InsertMigration);
            record.Add("@version", migration.Version);
            record.Add("@description", migration.Description);
            record.Add("@now", Ticks(time.GetUtcNow()));
            record.ExecuteNonQuery();
            current = migration.Version;
            LogMigrated(logger, migration.Version, migration.Description, options.TablePrefix);
        }

        if (dryRun)
        {
            transaction.Rollback();
        }
        else
        {
            transaction.Commit();
        }

        return new MigrationsApplyResult(applied, current);
    }

    // ---------------------------------------------------------------- plumbing

    private async Task<T> WriteAsync<T>(Func<WriteContext, T> body, CancellationToken cancellationToken)
    {
        var writer = await WriterAsync(cancellationToken).ConfigureAwait(false);
        return await writer.WriteAsync(body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="body"/> on a pooled read connection, interrupting its statement when the token is cancelled.</summary>
    internal async Task<T> ReadAsync<T>(Func<SqliteConnection, T> body, CancellationToken cancellationToken)
    {
        await WriterAsync(cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        // A disposed store opens no connection (its writer's task stays completed, so WriterAsync does not say).
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed), this);
        using var connection = new SqliteConnection(readConnectionString);
        connection.Open();
        if (!cancellationToken.CanBeCanceled)
        {
            return body(connection);
        }

        // A read runs on the caller's thread until it ends. SQLite asks the progress handler every thousand steps of a
        // statement whether to go on, so a cancelled read ends within them with SQLITE_INTERRUPT, however long its
        // statement would take (a text search over a large table), whenever the token is cancelled. The handler is
        // removed before the connection goes back to the pool.
        var handle = connection.Handle!;
        SQLitePCL.raw.sqlite3_progress_handler(handle, 1000, static state => ((CancellationToken)state).IsCancellationRequested ? 1 : 0, cancellationToken);
        try
        {
            return body(connection);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == SQLitePCL.raw.SQLITE_INTERRUPT && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The read was cancelled.", ex, cancellationToken);
        }
        finally
        {
            SQLitePCL.raw.sqlite3_progress_handler(handle, 0, null, null);
        }
    }

    // ---------------------------------------------------------------- lifetime

    public void Dispose()
    {
        Task<SqliteWriter>? writer;
        lock (initGate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            writer = initialized;
        }

        if (writer is not null)
        {
            try
            {
                writer.GetAwaiter().GetResult().Dispose();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Initialization failed: there is no writer to stop.
            }
        }

        using var pooled = new SqliteConnection(readConnectionString);
        SqliteConnection.ClearPool(pooled);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Applied TypedJobs SQLite schema version {Version} ({Description}) to tables '{Prefix}*'")]
    private static partial void LogMigrated(ILogger logger, int version, string description, string prefix);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Could not confirm that the transaction which enqueued job {JobId} committed it; its Enqueued event is not published and workers find it at their next poll")]
    private static partial void LogCommitProbeFailed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "A claim found tasks at their cap ({Tasks}): made the index '{Prefix}jobs_claim_task' of waiting jobs by queue and task, through which claims read the other tasks without reading the capped ones")]
    private static partial void LogClaimTaskIndex(ILogger logger, string tasks, string prefix);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "TypedJobs SQLite schema version {Version} ({Description}) of tables '{Prefix}*' is a contract migration: apply it with 'typedjobs migrate' (or ApplyContractMigrations) once no worker of an older version uses the database")]
    private static partial void LogContractPending(ILogger logger, int version, string description, string prefix);
}
