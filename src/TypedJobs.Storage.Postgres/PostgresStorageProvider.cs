using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using TypedJobs.Storage.Postgres.Internal;

[assembly: TypedJobs.Storage.StorageProvider(typeof(TypedJobs.Storage.Postgres.PostgresStorageProvider))]

namespace TypedJobs.Storage.Postgres;

/// <summary>
/// Opens <c>postgres://</c> and <c>postgresql://</c> URLs for every role:
/// <list type="bullet">
/// <item><c>postgres://user:password@host:5432/database?schema=jobs&amp;table_prefix=app_</c> — the store builds its own
/// connection pool;</item>
/// <item><c>postgres:///?schema=jobs</c> (no host) — the store uses the <see cref="NpgsqlDataSource"/> the application
/// registered in DI, so there is one pool;</item>
/// <item>TLS and authentication: <c>sslmode</c> (disable, allow, prefer, require, verify-ca, verify-full),
/// <c>sslrootcert</c>, <c>sslcert</c>, <c>sslkey</c>, <c>sslpassword</c>, <c>passfile</c>;</item>
/// <item>pool and connection: <c>pool_min</c>, <c>pool_max</c>, <c>connect_timeout</c> and <c>keepalive</c> (seconds),
/// <c>application_name</c>;</item>
/// <item>store: <c>schema</c>, <c>table_prefix</c>, <c>hot_path_timeout</c>, <c>migration_timeout</c>, <c>bulk_timeout</c>
/// (milliseconds), <c>wake</c> (notify, or poll for PgBouncer in transaction mode), <c>notify_window</c>
/// (milliseconds), <c>prepare</c>, <c>contract_migrations</c>.</item>
/// </list>
/// </summary>
public sealed class PostgresStorageProvider : StorageProvider
{
    private const string ValidSettings =
        "valid settings are schema, table_prefix, sslmode, sslrootcert, sslcert, sslkey, sslpassword, passfile, pool_min, pool_max, " +
        "connect_timeout, keepalive, application_name, hot_path_timeout, migration_timeout, bulk_timeout, wake, notify_window, prepare, contract_migrations";

    /// <inheritdoc />
    public override string Name => "PostgreSQL";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["postgres", "postgresql"];

    /// <inheritdoc />
    public override StorageRoles Roles => StorageRoles.All;

    /// <inheritdoc />
    public override void Validate(StorageUrl url, StorageProviderContext context) => Options(url, context, null);

    /// <inheritdoc />
    public override object Create(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = Options(url, context, context.Services.GetService<NpgsqlDataSource>());
        return new PostgresStorage(options, null, context.LoggerFactory?.CreateLogger("TypedJobs.Storage.Postgres"), context.LoggerFactory);
    }

    /// <summary>The settings a URL describes; throws <see cref="StorageConfigurationException"/> naming the bad part.</summary>
    /// <param name="url">The URL.</param>
    /// <param name="context">Where it came from.</param>
    /// <param name="shared">The application's data source, for a URL without a host.</param>
    internal static PostgresStorageOptions Options(StorageUrl url, StorageProviderContext context, NpgsqlDataSource? shared)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        if (!url.IsHierarchical)
        {
            throw context.Invalid(url, null, url.Redacted, "write postgres://user:password@host:5432/database (or postgres:///?schema=… to use the application's NpgsqlDataSource)");
        }

        var options = new PostgresStorageOptions();
        var builder = new NpgsqlConnectionStringBuilder();
        var useShared = url.Host.Length == 0;
        if (!useShared)
        {
            builder.Host = url.Authority.Contains(',', StringComparison.Ordinal) ? url.Authority : url.Host;
            builder.Port = url.Port ?? 5432;
            var database = url.Path.TrimStart('/');
            if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
            {
                throw context.Invalid(url, null, url.Redacted, "name the database after the host, e.g. postgres://user@host:5432/jobs");
            }

            builder.Database = database;
            if (url.UserName is { Length: > 0 } user)
            {
                builder.Username = user;
            }

            if (url.Password is not null)
            {
                builder.Password = url.Password;
            }
        }

        foreach (var (name, value) in url.Query)
        {
            switch (name)
            {
                case "schema":
                    options.Schema = PostgresIdentifiers.IsValidSchema(value)
                        ? value
                        : throw context.Invalid(url, name, value, "use 1-63 letters, digits or '_', starting with a letter or '_'");
                    break;
                case "table_prefix":
                    options.TablePrefix = PostgresIdentifiers.IsValidPrefix(value)
                        ? value
                        : throw context.Invalid(url, name, value, "use 1-32 letters, digits or '_', starting with a letter or '_'");
                    break;
                case "sslmode":
                    builder.SslMode = value.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw context.Invalid(url, name, value, "valid values are disable, allow, prefer, require, verify-ca, verify-full"),
                    };
                    break;
                case "sslrootcert":
                    builder.RootCertificate = Path(url, context, name, value);
                    break;
                case "sslcert":
                    builder.SslCertificate = Path(url, context, name, value);
                    break;
                case "sslkey":
                    builder.SslKey = Path(url, context, name, value);
                    break;
                case "sslpassword":
                    builder.SslPassword = value;
                    break;
                case "passfile":
                    builder.Passfile = Path(url, context, name, value);
                    break;
                case "pool_min":
                    builder.MinPoolSize = Integer(url, context, name, value, 0, 1000, "a whole number");
                    break;
                case "pool_max":
                    builder.MaxPoolSize = Integer(url, context, name, value, 1, 1000, "a whole number");
                    break;
                case "connect_timeout":
                    builder.Timeout = Integer(url, context, name, value, 1, 1024, "seconds");
                    break;
                case "keepalive":
                    builder.KeepAlive = Integer(url, context, name, value, 0, 3600, "seconds");
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "hot_path_timeout":
                    options.HotPathTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 100, 600_000, "milliseconds"));
                    break;
                case "migration_timeout":
                    options.MigrationTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 1000, 3_600_000, "milliseconds"));
                    break;
                case "bulk_timeout":
                    options.BulkTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 1000, 3_600_000, "milliseconds"));
                    break;
                case "wake":
                    options.WakeUp = value.ToLowerInvariant() switch
                    {
                        "notify" => PostgresWakeUp.Notify,
                        "poll" => PostgresWakeUp.Poll,
                        _ => throw context.Invalid(url, name, value, "valid values are notify (LISTEN/NOTIFY) and poll (for PgBouncer in transaction mode)"),
                    };
                    break;
                case "notify_window":
                    options.NotifyWindow = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 0, 10_000, "milliseconds"));
                    break;
                case "prepare":
                    options.PrepareStatements = Boolean(url, context, name, value);
                    break;
                case "contract_migrations":
                    options.ApplyContractMigrations = Boolean(url, context, name, value);
                    break;
                default:
                    throw context.Invalid(url, name, value, ValidSettings);
            }
        }

        if (useShared)
        {
            if (builder.Count > 0)
            {
                throw context.Invalid(url, null, url.Redacted,
                    "a URL without a host uses the application's NpgsqlDataSource, whose connection settings come from the application: give only store settings (schema, table_prefix, timeouts, wake)");
            }

            options.DataSource = shared ?? context.Services.GetService<NpgsqlDataSource>() ?? throw context.Invalid(url, null, url.Redacted,
                "a URL without a host uses the application's NpgsqlDataSource, and none is registered: register one in DI or give host and database in the URL");
        }
        else
        {
            options.ConnectionString = builder.ConnectionString;
        }

        try
        {
            options.Validate();
        }
        catch (InvalidOperationException ex)
        {
            throw new StorageConfigurationException($"Invalid storage {context.ConfigurationKey} = '{url.Redacted}': {ex.Message}", ex);
        }

        return options;
    }

    private static string Path(StorageUrl url, StorageProviderContext context, string name, string value) =>
        value.Length == 0
            ? throw context.Invalid(url, name, value, "give a file path")
            : System.IO.Path.IsPathRooted(value) ? value : System.IO.Path.GetFullPath(System.IO.Path.Combine(context.ContentRoot, value));

    private static bool Boolean(StorageUrl url, StorageProviderContext context, string name, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw context.Invalid(url, name, value, "use true or false"),
    };

    private static int Integer(StorageUrl url, StorageProviderContext context, string name, string value, int min, int max, string unit) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw context.Invalid(url, name, value, $"use {unit} between {min} and {max}");
}
