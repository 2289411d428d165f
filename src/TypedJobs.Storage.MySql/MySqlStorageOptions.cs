using MySqlConnector;

namespace TypedJobs.Storage.MySql;

/// <summary>
/// Settings of the MySQL / MariaDB store (configuration section <c>TypedJobs:MySql</c>). Connection settings — server,
/// database, user, password, TLS (<c>SslMode</c>, <c>SslCa</c>, <c>SslCert</c>, <c>SslKey</c>), pool size and connect
/// timeout — are MySqlConnector connection-string settings; everything here is validated when the host starts, and a
/// bad value stops startup with a message naming the key and the valid values (never a password).
/// </summary>
public sealed class MySqlStorageOptions
{
    /// <summary>The default <see cref="TablePrefix"/>.</summary>
    public const string DefaultTablePrefix = "typedjobs_";

    /// <summary>
    /// A MySqlConnector connection string (<c>Server=db;Database=app;User ID=app;Password=…;SslMode=Required</c>). The
    /// database must exist. Ignored when <see cref="DataSource"/> is set.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// A data source the application already has (one pool for the application and the store). The store never
    /// disposes it. When set, <see cref="ConnectionString"/> is not used.
    /// </summary>
    public MySqlDataSource? DataSource { get; set; }

    /// <summary>The prefix of every table: 1-32 letters, digits or underscores, starting with a letter or underscore. Default <c>typedjobs_</c>.</summary>
    public string TablePrefix { get; set; } = DefaultTablePrefix;

    /// <summary>
    /// The longest a hot-path call (insert, claim, complete, extend, rescue) may take — waiting for a pooled connection,
    /// a row lock or the server — before it fails. Keep it well below the workers' lease duration (workers check this at
    /// startup), so a worker that cannot write learns it while its leases still hold. Default 5 seconds.
    /// </summary>
    public TimeSpan HotPathTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long schema creation and migrations wait for the migration lock (<c>GET_LOCK</c>) and run. Default 60 seconds.</summary>
    public TimeSpan MigrationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long administration, bulk actions and pruning may take per call. Default 60 seconds.</summary>
    public TimeSpan AdminTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Whether initialization also applies contract migrations (ones that remove what workers of an older version rely
    /// on) to an existing database. Leave it off during a rolling deploy and run <c>typedjobs migrate</c> once every
    /// worker is upgraded; a new database gets every migration at once. Default <see langword="false"/>.
    /// </summary>
    public bool ApplyContractMigrations { get; set; }

    /// <summary>
    /// Checks every setting and returns the connection string the store uses (<see langword="null"/> with a
    /// <see cref="DataSource"/>). Throws <see cref="InvalidOperationException"/> naming the bad key and the valid values.
    /// </summary>
    public string? Validate()
    {
        static Exception Fail(string key, object? value, string rule) =>
            new InvalidOperationException($"Invalid setting TypedJobs:MySql:{key} = '{value}': {rule}.");

        if (!IsValidPrefix(TablePrefix))
        {
            throw Fail(nameof(TablePrefix), TablePrefix, "use 1-32 letters, digits or '_', starting with a letter or '_'");
        }

        CheckTimeout(nameof(HotPathTimeout), HotPathTimeout, TimeSpan.FromMinutes(10));
        CheckTimeout(nameof(MigrationTimeout), MigrationTimeout, TimeSpan.FromHours(1));
        CheckTimeout(nameof(AdminTimeout), AdminTimeout, TimeSpan.FromHours(1));
        if (DataSource is not null)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new InvalidOperationException(
                "Invalid setting TypedJobs:MySql:ConnectionString: give a connection string such as 'Server=db;Database=app;User ID=app;Password=…', or a MySqlDataSource.");
        }

        MySqlConnectionStringBuilder builder;
        try
        {
            builder = new MySqlConnectionStringBuilder(ConnectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            // The parser's message names the bad keyword; the value itself may hold a password, so it is not repeated.
            throw new InvalidOperationException($"Invalid setting TypedJobs:MySql:ConnectionString: {ex.Message}", ex);
        }

        if (string.IsNullOrWhiteSpace(builder.Database))
        {
            throw new InvalidOperationException(
                "Invalid setting TypedJobs:MySql:ConnectionString: it names no database (Database=…); the store keeps its tables in an existing database.");
        }

        return builder.ConnectionString;

        static void CheckTimeout(string key, TimeSpan value, TimeSpan max)
        {
            if (value < TimeSpan.FromMilliseconds(100) || value > max)
            {
                throw Fail(key, value, $"must be between 00:00:00.1 and {max}");
            }
        }
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

    internal MySqlStorageOptions Clone() => (MySqlStorageOptions)MemberwiseClone();
}
