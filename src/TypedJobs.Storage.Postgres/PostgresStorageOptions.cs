using Npgsql;
using TypedJobs.Storage.Postgres.Internal;

namespace TypedJobs.Storage.Postgres;

/// <summary>How workers learn that jobs arrived from another process.</summary>
public enum PostgresWakeUp
{
    /// <summary>
    /// LISTEN/NOTIFY on one dedicated connection per store: an insert notifies at once (coalesced, see
    /// <see cref="PostgresStorageOptions.NotifyWindow"/>), and workers still poll as a fallback. The default.
    /// </summary>
    Notify,

    /// <summary>
    /// Polling only (<c>WorkerOptions.PollInterval</c>), no LISTEN connection and no prepared statements: for PgBouncer in
    /// transaction mode, where a session-level LISTEN and prepared statements do not survive between transactions.
    /// Workers in the process that inserted still wake at once.
    /// </summary>
    Poll,
}

/// <summary>
/// Settings of the PostgreSQL store (configuration section <c>TypedJobs:Postgres</c>, or the query settings of a
/// <c>postgres://</c> URL). Connection, TLS, authentication, pool and keep-alive settings belong to the Npgsql
/// connection string (or to the <see cref="NpgsqlDataSource"/> you pass in). Validated when the host starts: a bad value
/// stops startup with a message naming the key and the valid values.
/// </summary>
public sealed class PostgresStorageOptions
{
    /// <summary>The default <see cref="Schema"/>.</summary>
    public const string DefaultSchema = "public";

    /// <summary>The default <see cref="TablePrefix"/>.</summary>
    public const string DefaultTablePrefix = "typedjobs_";

    /// <summary>
    /// An Npgsql connection string (<c>Host=db;Database=app;Username=app;Password=…;SSL Mode=Require</c>). Ignored when
    /// <see cref="DataSource"/> is set.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// A data source the application already has (for example from DI): the store borrows its connections, so there is
    /// one pool, and never disposes it. Its type mappings must include arrays (the default builder has them; with
    /// <c>NpgsqlSlimDataSourceBuilder</c> call <c>EnableArrays()</c>).
    /// </summary>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>The schema of the store's tables, created when missing: letters, digits and '_', starting with a letter or '_', at most 63 characters. Default <c>public</c>.</summary>
    public string Schema { get; set; } = DefaultSchema;

    /// <summary>The prefix of every table, index and sequence: letters, digits and '_', starting with a letter or '_', at most 32 characters. Default <c>typedjobs_</c>.</summary>
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    /// <summary>
    /// The command timeout of the hot path (insert, claim, complete, extend, rescue). Keep it well below the workers'
    /// lease duration, so a worker that cannot write learns it while its leases still hold. Waiting for a pooled connection
    /// counts too. Default 5 seconds.
    /// </summary>
    public TimeSpan HotPathTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The command timeout of schema migrations (which also wait for the migration lock). Default 2 minutes.</summary>
    public TimeSpan MigrationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The command timeout of administration and bulk work (lists, counts, bulk actions, pruning). Default 60 seconds.</summary>
    public TimeSpan BulkTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How workers learn about new jobs from other processes. Default <see cref="PostgresWakeUp.Notify"/>.</summary>
    public PostgresWakeUp WakeUp { get; set; } = PostgresWakeUp.Notify;

    /// <summary>
    /// Notifications are coalesced on the leading edge: the first insert of a window notifies at once, inserts during
    /// the rest of the window send no notification of their own, and one notification at the end of the window covers
    /// them (so none is missed). Zero notifies on every insert. Default 50 ms.
    /// </summary>
    public TimeSpan NotifyWindow { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Whether the hot-path statements are prepared on each physical connection. Default <see langword="true"/>; off in
    /// <see cref="PostgresWakeUp.Poll"/> mode for PgBouncer in transaction mode unless set explicitly.
    /// </summary>
    public bool? PrepareStatements { get; set; }

    /// <summary>
    /// Whether initialization also applies contract migrations (ones that remove what workers of an older version rely
    /// on) to an existing schema. Leave it off during a rolling deploy and run <c>typedjobs migrate</c> once every worker
    /// is upgraded; a new schema gets every migration at once. Default <see langword="false"/>.
    /// </summary>
    public bool ApplyContractMigrations { get; set; }

    /// <summary>
    /// Checks every setting and returns the connection string the store builds its own data source from (empty when
    /// <see cref="DataSource"/> is given). Throws <see cref="InvalidOperationException"/> naming the bad key and the
    /// valid values; a password never appears in the message.
    /// </summary>
    public string Validate()
    {
        static Exception Fail(string key, object? value, string rule) =>
            new InvalidOperationException($"Invalid setting TypedJobs:Postgres:{key} = '{value}': {rule}.");

        if (!PostgresIdentifiers.IsValidSchema(Schema))
        {
            throw Fail(nameof(Schema), Schema, "use 1-63 letters, digits or '_', starting with a letter or '_'");
        }

        if (!PostgresIdentifiers.IsValidPrefix(TablePrefix))
        {
            throw Fail(nameof(TablePrefix), TablePrefix, "use 1-32 letters, digits or '_', starting with a letter or '_'");
        }

        if (HotPathTimeout < TimeSpan.FromMilliseconds(100) || HotPathTimeout > TimeSpan.FromMinutes(10))
        {
            throw Fail(nameof(HotPathTimeout), HotPathTimeout, "must be between 00:00:00.1 and 00:10:00");
        }

        CheckTimeout(nameof(MigrationTimeout), MigrationTimeout, TimeSpan.FromHours(1));
        CheckTimeout(nameof(BulkTimeout), BulkTimeout, TimeSpan.FromHours(1));
        if (!Enum.IsDefined(WakeUp))
        {
            throw Fail(nameof(WakeUp), WakeUp, "valid values are Notify, Poll");
        }

        if (NotifyWindow < TimeSpan.Zero || NotifyWindow > TimeSpan.FromSeconds(10))
        {
            throw Fail(nameof(NotifyWindow), NotifyWindow, "must be between 00:00:00 and 00:00:10");
        }

        if (DataSource is not null)
        {
            return "";
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw Fail(nameof(ConnectionString), ConnectionString, "give an Npgsql connection string such as 'Host=localhost;Database=app;Username=app'");
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException or InvalidCastException)
        {
            // The parser's message names the bad keyword; the value may hold a password, so it is not repeated.
            throw new InvalidOperationException($"Invalid setting TypedJobs:Postgres:ConnectionString: {ex.Message}", ex);
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new InvalidOperationException("Invalid setting TypedJobs:Postgres:ConnectionString: it names no Host.");
        }

        return builder.ConnectionString;

        void CheckTimeout(string key, TimeSpan value, TimeSpan max)
        {
            if (value < TimeSpan.FromSeconds(1) || value > max)
            {
                throw Fail(key, value, $"must be between 00:00:01 and {max:c}");
            }
        }
    }

    internal PostgresStorageOptions Clone() => (PostgresStorageOptions)MemberwiseClone();
}
