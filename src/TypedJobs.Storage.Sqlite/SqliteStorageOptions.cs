using Microsoft.Data.Sqlite;

namespace TypedJobs.Storage.Sqlite;

/// <summary>How hard SQLite works to make each commit durable (the <c>synchronous</c> pragma of the writer connection).</summary>
public enum SqliteSynchronous
{
    /// <summary>No syncs: fastest; a power loss or OS crash can lose or corrupt recent commits.</summary>
    Off,

    /// <summary>Syncs at checkpoints only: a power loss can lose the last commits (never corrupts in WAL mode).</summary>
    Normal,

    /// <summary>Syncs every commit: an acknowledged enqueue survives a power loss. The default.</summary>
    Full,

    /// <summary>Like <see cref="Full"/> and also syncs the directory.</summary>
    Extra,
}

/// <summary>
/// Settings of the SQLite store (configuration section <c>TypedJobs:Sqlite</c>). Validated when the host starts: a bad
/// value stops startup with a message naming the key and the valid values.
/// </summary>
public sealed class SqliteStorageOptions
{
    /// <summary>The default <see cref="TablePrefix"/>.</summary>
    public const string DefaultTablePrefix = "typedjobs_";

    /// <summary>
    /// A Microsoft.Data.Sqlite connection string (<c>Data Source=jobs.db</c>) or a plain file path. The database must be
    /// a file: in-memory databases cannot be shared by the store's connections.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The prefix of every table and index: letters, digits and underscores, starting with a letter or underscore. Default <c>typedjobs_</c>.</summary>
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    /// <summary>The <c>synchronous</c> pragma of the writer. Default <see cref="SqliteSynchronous.Full"/>.</summary>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Full;

    /// <summary>
    /// How long a statement of the hot path (claims, completions, lease extensions) waits for another process's write lock
    /// before failing. Keep it well below the workers' lease duration, so a worker that cannot write learns it while
    /// its leases still hold. Microsoft.Data.Sqlite retries such a statement for whole seconds, so a wait is this
    /// timeout rounded up to whole seconds, and at least one second (also for zero). Default 5 seconds.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long schema creation and migrations wait for another process's write lock. Default 60 seconds.</summary>
    public TimeSpan MigrationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Whether initialization also applies contract migrations (ones that remove what workers of an older version
    /// rely on) to an existing database. Leave it off during a rolling deploy and run <c>typedjobs migrate</c> once every
    /// worker is upgraded; a new database gets every migration at once. Default <see langword="false"/>.
    /// </summary>
    public bool ApplyContractMigrations { get; set; }

    /// <summary>The most write operations grouped into one transaction by the writer. Default 256.</summary>
    public int MaxWriteBatch { get; set; } = 256;

    /// <summary>
    /// Checks every setting and returns the connection string the store uses (the file path resolved into
    /// <c>Data Source</c>). Throws <see cref="InvalidOperationException"/> naming the bad key and the valid values.
    /// </summary>
    public string Validate()
    {
        static Exception Fail(string key, object? value, string rule) =>
            new InvalidOperationException($"Invalid setting TypedJobs:Sqlite:{key} = '{value}': {rule}.");

        if (!IsValidPrefix(TablePrefix))
        {
            throw Fail(nameof(TablePrefix), TablePrefix, "use 1-32 letters, digits or '_', starting with a letter or '_'");
        }

        if (!Enum.IsDefined(Synchronous))
        {
            throw Fail(nameof(Synchronous), Synchronous, "valid values are Off, Normal, Full, Extra");
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromHours(1))
        {
            throw Fail(nameof(BusyTimeout), BusyTimeout, "must be between 00:00:00 and 01:00:00");
        }

        if (MigrationTimeout < TimeSpan.Zero || MigrationTimeout > TimeSpan.FromHours(1))
        {
            throw Fail(nameof(MigrationTimeout), MigrationTimeout, "must be between 00:00:00 and 01:00:00");
        }

        if (MaxWriteBatch is < 1 or > 10_000)
        {
            throw Fail(nameof(MaxWriteBatch), MaxWriteBatch, "must be between 1 and 10000");
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw Fail(nameof(ConnectionString), ConnectionString, "give a file path or a connection string such as 'Data Source=jobs.db'");
        }

        SqliteConnectionStringBuilder builder;
        try
        {
            builder = ConnectionString.Contains('=', StringComparison.Ordinal)
                ? new SqliteConnectionStringBuilder(ConnectionString)
                : new SqliteConnectionStringBuilder { DataSource = ConnectionString };
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            // The message of the parser names the bad keyword; the value itself may hold a password, so it is not repeated.
            throw new InvalidOperationException($"Invalid setting TypedJobs:Sqlite:ConnectionString: {ex.Message}", ex);
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource) || builder.DataSource == ":memory:" || builder.Mode is SqliteOpenMode.Memory)
        {
            throw new InvalidOperationException(
                "Invalid setting TypedJobs:Sqlite:ConnectionString: the store needs a database file (Data Source=path); in-memory SQLite databases are not supported, use UseInMemory() instead.");
        }

        if (builder.Mode is SqliteOpenMode.ReadOnly)
        {
            throw new InvalidOperationException("Invalid setting TypedJobs:Sqlite:ConnectionString: Mode=ReadOnly cannot store jobs; use ReadWriteCreate or ReadWrite.");
        }

        return builder.ToString();
    }

    internal static bool IsValidPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix.Length > 32 || char.IsAsciiDigit(prefix[0]))
        {
            return false;
        }

        foreach (var c in prefix)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    internal SqliteStorageOptions Clone() => (SqliteStorageOptions)MemberwiseClone();
}
