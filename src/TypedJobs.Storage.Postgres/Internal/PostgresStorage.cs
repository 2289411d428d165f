using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>
/// The PostgreSQL backend for every storage role. Each operation borrows a connection from one
/// <see cref="NpgsqlDataSource"/> (the application's, or one the store builds with <see cref="NpgsqlSlimDataSourceBuilder"/>)
/// and runs one statement or one batch, so a call is one round trip. The clock is the server's <c>now()</c>; tests may give
/// a clock of their own, which is then bound as <c>@now</c>.
/// </summary>
internal sealed partial class PostgresStorage : IJobStore, IJobAdminStore, ILockStore, IResultStore, IEventStore, IScheduleStore,
    ITransactionalJobStore, IStorageMigrations, IAsyncDisposable, IDisposable
{
    private readonly PostgresStorageOptions options;
    private readonly NpgsqlDataSource dataSource;
    private readonly bool ownsDataSource;
    private readonly TimeProvider? clock;
    private readonly ILogger logger;
    private readonly AsyncSignal signal = new();
    private readonly int hotTimeout;
    private readonly int bulkTimeout;
    private readonly int migrationTimeout;
    private readonly bool prepare;
    private readonly PostgresNotifier? notifier;
    private readonly object initGate = new();
    private Task? initialized;
    private int disposed;

    /// <param name="options">Validated settings.</param>
    /// <param name="clock">
    /// <see langword="null"/> for the server's clock (production); a clock of its own for tests, bound as <c>@now</c>.
    /// </param>
    /// <param name="logger">Where the store logs.</param>
    /// <param name="loggerFactory">Handed to a data source the store builds, for Npgsql's own logs.</param>
    /// <param name="migrations">Replaces the built-in migrations (tests of the migration mechanism).</param>
    public PostgresStorage(PostgresStorageOptions options, TimeProvider? clock = null, ILogger? logger = null, ILoggerFactory? loggerFactory = null,
        IReadOnlyList<PostgresSql.Migration>? migrations = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Clone();
        var connectionString = this.options.Validate();
        this.clock = clock;
        this.logger = logger ?? NullLogger.Instance;
        if (this.options.DataSource is { } shared)
        {
            dataSource = shared;
        }
        else
        {
            var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
            builder.EnableArrays();
            builder.EnableTransportSecurity();
            if (loggerFactory is not null)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            dataSource = builder.Build();
            ownsDataSource = true;
        }

        var target = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Target = $"{target.Host}:{target.Port}, database '{target.Database}'";
        TargetDatabase = target.Database;
        Sql = new PostgresSql(this.options.Schema, this.options.TablePrefix, clock is null, migrations);
        hotTimeout = Seconds(this.options.HotPathTimeout);
        bulkTimeout = Seconds(this.options.BulkTimeout);
        migrationTimeout = Seconds(this.options.MigrationTimeout);
        prepare = this.options.PrepareStatements ?? this.options.WakeUp == PostgresWakeUp.Notify;
        Channel = PostgresIdentifiers.Channel(this.options.Schema, this.options.TablePrefix);
        Coalescer = new NotifyCoalescer(this.options.NotifyWindow, SendTrailingNotifyAsync);
        if (this.options.WakeUp == PostgresWakeUp.Notify)
        {
            notifier = new PostgresNotifier(dataSource, Channel, OnNotification, OnListenerConnected, this.logger);
        }
    }

    public PostgresSql Sql { get; }

    /// <summary>The server and database, for messages (never the password).</summary>
    public string Target { get; }

    public string? TargetDatabase { get; }

    /// <summary>The notification channel of this schema and prefix.</summary>
    public string Channel { get; }

    public NotifyCoalescer Coalescer { get; }

    /// <summary>The listener of this store (none in poll-only mode).</summary>
    public PostgresNotifier? Notifier => notifier;

    public NpgsqlDataSource DataSource => dataSource;

    public StorageCapabilities Capabilities =>
        StorageCapabilities.TransactionalEnqueue | StorageCapabilities.Durable | StorageCapabilities.TextSearch | StorageCapabilities.Migrations |
        (notifier is null ? StorageCapabilities.None : StorageCapabilities.CrossProcessWakeUp);

    public TimeSpan HotPathTimeout => options.HotPathTimeout;

    /// <summary>Wakes this process's waiting workers.</summary>
    public void Wake() => signal.Set();

    private static int Seconds(TimeSpan value) => Math.Max(1, (int)Math.Ceiling(value.TotalSeconds));

    // ---------------------------------------------------------------- plumbing

    /// <summary>The store's now: the server's, or the test clock's.</summary>
    private DateTimeOffset? TestNow => clock?.GetUtcNow();

    private NpgsqlCommand Command(NpgsqlConnection connection, string sql, int timeout, NpgsqlTransaction? transaction = null)
    {
        var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = timeout };
        if (clock is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTime>("now", NpgsqlDbType.TimestampTz) { TypedValue = clock.GetUtcNow().UtcDateTime });
        }

        return command;
    }

    private NpgsqlBatchCommand BatchCommand(string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        if (clock is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTime>("now", NpgsqlDbType.TimestampTz) { TypedValue = clock.GetUtcNow().UtcDateTime });
        }

        return command;
    }

    private async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        return await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask PrepareAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        if (prepare)
        {
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask PrepareAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        if (prepare)
        {
            await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a statement that returns nothing (or an affected-row count).</summary>
    private async Task<int> ExecuteAsync(string sql, int timeout, Action<NpgsqlCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, sql, timeout);
        bind(command);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a query and reads every row with <paramref name="read"/>.</summary>
    private async Task<List<T>> QueryAsync<T>(string sql, int timeout, Action<NpgsqlCommand> bind, Func<NpgsqlDataReader, T> read,
        CancellationToken cancellationToken, bool prepared = false)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, sql, timeout);
        bind(command);
        if (prepared)
        {
            await PrepareAsync(command, cancellationToken).ConfigureAwait(false);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    // ---------------------------------------------------------------- initialization

    public async ValueTask InitializeAsync(CancellationToken cancellationToken) => await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);

    private Task EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        var task = Volatile.Read(ref initialized);
        if (task is { IsCompletedSuccessfully: true })
        {
            return task;
        }

        lock (initGate)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            if (initialized is null || initialized.IsFaulted || initialized.IsCanceled)
            {
                initialized = Task.Run(() => InitializeCoreAsync(CancellationToken.None), CancellationToken.None);
            }

            return initialized.WaitAsync(cancellationToken);
        }
    }

    private async Task InitializeCoreAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or IOException or System.Security.Authentication.AuthenticationException)
        {
            throw new InvalidOperationException($"TypedJobs cannot connect to PostgreSQL at {Target}: {Describe(ex)}", ex);
        }

        await using (connection.ConfigureAwait(false))
        {
            await MigrateAsync(connection, options.ApplyContractMigrations, dryRun: false, cancellationToken).ConfigureAwait(false);
        }

        notifier?.Start();
    }

    /// <summary>What went wrong connecting, in words that never include the password.</summary>
    private static string Describe(Exception ex) => ex switch
    {
        PostgresException { SqlState: "28P01" or "28000" } pg => $"the server refused the credentials ({pg.MessageText}).",
        PostgresException { SqlState: "3D000" } pg => $"the database does not exist ({pg.MessageText}).",
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState}).",
        NpgsqlException { InnerException: SocketException socket } => $"the server is unreachable ({socket.SocketErrorCode}: {socket.Message}).",
        NpgsqlException { InnerException: TimeoutException } or TimeoutException => "the connection timed out.",
        NpgsqlException { InnerException: { } inner } => $"{inner.Message}",
        _ => ex.Message,
    };

    // ---------------------------------------------------------------- clock

    public async ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken)
    {
        if (TestNow is { } now)
        {
            return now;
        }

        var rows = await QueryAsync(Sql.Clock, hotTimeout, static _ => { }, r => PostgresRows.Time(r, 0), cancellationToken).ConfigureAwait(false);
        return rows[0];
    }

    // ---------------------------------------------------------------- wake-up

    private void OnNotification(string payload)
    {
        signal.Set();
        if (payload.StartsWith(PendingCommits.PayloadPrefix, StringComparison.Ordinal))
        {
            Commits.Committed(payload);
        }
    }

    private void OnListenerConnected()
    {
        // Notifications sent while the listener was away are lost: let every waiting worker look once.
        signal.Set();
        Commits.ListenerReconnected();
    }

    /// <summary>Tells workers of other processes that jobs may be ready (coalesced), after a write that did not notify itself.</summary>
    private void NotifyOthers()
    {
        if (notifier is null)
        {
            return;
        }

        if (Coalescer.TryLead())
        {
            _ = SendNotifyAsync("");
        }
        else
        {
            Coalescer.Suppressed();
        }
    }

    private Task SendTrailingNotifyAsync() => SendNotifyAsync("");

    private async Task SendNotifyAsync(string payload)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(Sql.Notify, connection) { CommandTimeout = hotTimeout };
            command.Add("channel", Channel);
            command.Add("payload", payload);
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Workers elsewhere find the jobs at their next poll.
            LogNotifyFailed(logger, ex);
        }
    }

    public ValueTask JobsWaitAsync(JobsWaitParams parameters, CancellationToken cancellationToken) => signal.WaitAsync(cancellationToken);

    // ---------------------------------------------------------------- lifetime

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        Coalescer.Dispose();
        commits?.Dispose();
        if (notifier is not null)
        {
            await notifier.DisposeAsync().ConfigureAwait(false);
        }

        if (ownsDataSource)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Applied TypedJobs PostgreSQL schema version {Version} ({Description}) to {Schema}.{Prefix}*")]
    private static partial void LogMigrated(ILogger logger, int version, string description, string schema, string prefix);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "TypedJobs PostgreSQL schema version {Version} ({Description}) of {Schema}.{Prefix}* is a contract migration: apply it with 'typedjobs migrate' (or ApplyContractMigrations) once no worker of an older version uses the schema")]
    private static partial void LogContractPending(ILogger logger, int version, string description, string schema, string prefix);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "A TypedJobs wake-up notification could not be sent; workers in other processes find the jobs at their next poll")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Debug, Message = "A TypedJobs PostgreSQL statement was rolled back as a deadlock's victim; running it again ({Retry} of {Retries})")]
    private static partial void LogDeadlockVictim(ILogger logger, int retry, int retries);
}
