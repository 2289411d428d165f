using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>
/// The MySQL / MariaDB backend for every storage role, on one <see cref="MySqlDataSource"/> (the application's, or one
/// the store builds from its connection string). Each operation takes a pooled connection and sends as few batches as
/// it can: a claim is two round trips (the locking read, then the update with its commit), a batch of completions two,
/// a heartbeat one. The store's clock is the server's <c>UTC_TIMESTAMP(6)</c>; a store opened with a test clock binds
/// that clock's time as <c>@now</c> instead. Workers in this process wake when jobs arrive through this instance (and
/// when a caller's transaction that enqueued jobs commits); workers elsewhere find them at their next poll (MySQL has no
/// notification channel).
/// </summary>
internal sealed partial class MySqlStorage : IJobStore, IJobAdminStore, ILockStore, IResultStore, IEventStore, IScheduleStore,
    ITransactionalJobStore, IStorageMigrations, IAsyncDisposable, IDisposable
{
    private const int MaxRetries = 8;
    /// <summary>How many queues <see cref="ReadsRangePerPriority"/> remembers before it starts over.</summary>
    private const int MaxRememberedQueues = 10_000;

    private readonly MySqlStorageOptions options;
    private readonly MySqlDataSource dataSource;
    private readonly bool ownsDataSource;
    private readonly TimeProvider? clock;
    private readonly ILogger logger;
    private readonly AsyncSignal signal = new();
    private readonly SemaphoreSlim commitWatchers = new(MaxCommitWatchers);

    // Queues whose claims read one range (see ReadsRangePerPriority).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> oneRangeQueues = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();
    private readonly object initGate = new();
    private Task? initialized;
    private bool disposed;

    /// <param name="options">Validated by the constructor.</param>
    /// <param name="clock"><see langword="null"/> for the server's clock (production); a clock of its own for tests, bound as <c>@now</c>.</param>
    /// <param name="logger">Where migrations and warnings are logged.</param>
    /// <param name="extraMigrations">Migrations after the built-in ones (tests of the expand/contract rules).</param>
    public MySqlStorage(MySqlStorageOptions options, TimeProvider? clock = null, ILogger? logger = null,
        IReadOnlyList<MySqlSql.Migration>? extraMigrations = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Clone();
        var connectionString = this.options.Validate();
        if (this.options.DataSource is { } shared)
        {
            dataSource = shared;
        }
        else
        {
            dataSource = new MySqlDataSource(connectionString!);
            ownsDataSource = true;
        }

        var builder = new MySqlConnectionStringBuilder(dataSource.ConnectionString);
        Database = builder.Database;
        Server = builder.Server + ":" + builder.Port.ToString(CultureInfo.InvariantCulture);
        this.clock = clock;
        this.logger = logger ?? NullLogger.Instance;
        Sql = new MySqlSql(this.options.TablePrefix, clock is null, extraMigrations);
    }

    public MySqlSql Sql { get; }

    /// <summary>The database the tables live in.</summary>
    public string Database { get; }

    /// <summary>The server's host and port (no credentials), for messages.</summary>
    public string Server { get; }

    public StorageCapabilities Capabilities =>
        StorageCapabilities.TransactionalEnqueue | StorageCapabilities.Durable | StorageCapabilities.TextSearch | StorageCapabilities.Migrations;

    public TimeSpan HotPathTimeout => options.HotPathTimeout;

    /// <summary>Wakes workers of this process (after a transactional enqueue committed on a caller's connection).</summary>
    public void Wake() => signal.Set();

    public ValueTask JobsWaitAsync(JobsWaitParams parameters, CancellationToken cancellationToken) => signal.WaitAsync(cancellationToken);

    public async ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken)
    {
        if (clock is not null)
        {
            return clock.GetUtcNow();
        }

        return await RunAsync(Kind.Hot, async (connection, ct) =>
        {
            await using var command = Command(connection, Sql.Clock, Kind.Hot);
            return new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!, DateTimeKind.Utc));
        }, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- plumbing

    /// <summary>Which timeout an operation runs under.</summary>
    internal enum Kind
    {
        /// <summary>Claims, completions, heartbeats, inserts, rescue: <see cref="MySqlStorageOptions.HotPathTimeout"/>.</summary>
        Hot,

        /// <summary>Reads and operator actions, bulk actions and pruning: <see cref="MySqlStorageOptions.AdminTimeout"/>.</summary>
        Admin,

        /// <summary>Schema creation and migrations: <see cref="MySqlStorageOptions.MigrationTimeout"/>.</summary>
        Migration,
    }

    private TimeSpan Timeout(Kind kind) => kind switch
    {
        Kind.Hot => options.HotPathTimeout,
        Kind.Admin => options.AdminTimeout,
        _ => options.MigrationTimeout,
    };

    /// <summary>A command on <paramref name="connection"/> with the timeout of <paramref name="kind"/> and, under a test clock, <c>@now</c> bound.</summary>
    internal MySqlCommand Command(MySqlConnection connection, string sql, Kind kind, MySqlTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(Timeout(kind).TotalSeconds));
        if (clock is not null)
        {
            command.AddTime("@now", clock.GetUtcNow());
        }

        return command;
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a pooled connection within the timeout of <paramref name="kind"/>, after the schema
    /// is initialized. Deadlocks and lock-wait timeouts are retried with jitter: every body runs its writes in one
    /// transaction that such an error rolls back, so running it again is safe.
    /// </summary>
    internal async Task<T> RunAsync<T>(Kind kind, Func<MySqlConnection, CancellationToken, Task<T>> body, CancellationToken cancellationToken,
        bool initialize = true)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (initialize)
        {
            await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        }

        var timeout = Timeout(kind);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(deadline.Token).ConfigureAwait(false);
                return await body(connection, deadline.Token).ConfigureAwait(false);
            }
            catch (MySqlException ex) when (IsTransient(ex) && attempt < MaxRetries && !deadline.IsCancellationRequested)
            {
                LogRetry(logger, ex.ErrorCode.ToString(), attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                       && ex is OperationCanceledException or MySqlException { ErrorCode: MySqlErrorCode.QueryInterrupted or MySqlErrorCode.CommandTimeoutExpired })
            {
                throw new TimeoutException(
                    $"The MySQL store ({Server}, database '{Database}') did not answer within {timeout} ({kind} timeout).", ex);
            }
            catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.CommandTimeoutExpired)
            {
                throw new TimeoutException(
                    $"The MySQL store ({Server}, database '{Database}') did not answer within {timeout} ({kind} timeout).", ex);
            }
        }
    }

    /// <summary>Deadlocks and lock-wait timeouts: the server rolled the statement or transaction back.</summary>
    internal static bool IsTransient(MySqlException ex) =>
        ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout;

    /// <summary>Ends a transaction the store opened with <c>START TRANSACTION</c> in a batch, after a failure; errors are ignored (a broken connection rolls back by itself).</summary>
    internal static async Task RollbackQuietlyAsync(MySqlConnection connection)
    {
        try
        {
            await using var rollback = connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.CommandTimeout = 5;
            await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or TimeoutException or IOException)
        {
            // The connection is broken; the server ends the transaction when the session goes away.
        }
    }

    /// <summary>The opening of a batch that starts a short transaction reading the latest committed rows without gap locks.</summary>
    internal const string Begin = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; ";

    // ---------------------------------------------------------------- lifetime

    public void Dispose()
    {
        lock (initGate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
        }

        stopping.Cancel();
        if (ownsDataSource)
        {
            dataSource.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (initGate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        if (ownsDataSource)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 3404, Level = LogLevel.Warning, Message = "TypedJobs MySQL store: could not observe the commit of the transaction that enqueued job {JobId}; workers find its jobs at their next poll")]
    private static partial void LogCommitWatchFailed(ILogger logger, Exception exception, JobId jobId);

    [LoggerMessage(EventId = 3400, Level = LogLevel.Debug, Message = "TypedJobs MySQL store: {Error} on attempt {Attempt}; retrying")]
    private static partial void LogRetry(ILogger logger, string error, int attempt);
}
