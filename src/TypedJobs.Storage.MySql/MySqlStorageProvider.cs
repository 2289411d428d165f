using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using TypedJobs.Storage.MySql.Internal;

[assembly: TypedJobs.Storage.StorageProvider(typeof(TypedJobs.Storage.MySql.MySqlStorageProvider))]

namespace TypedJobs.Storage.MySql;

/// <summary>
/// Opens <c>mysql://</c> (and <c>mariadb://</c>) URLs for every role:
/// <list type="bullet">
/// <item><c>mysql://user:password@host:3306/database</c> — the store builds its own connection pool;</item>
/// <item><c>mysql:///?table_prefix=jobs_</c> (no host) — the store uses the <see cref="MySqlDataSource"/> the application
/// registered in DI, one pool for both;</item>
/// <item>settings: <c>table_prefix</c>, <c>ssl_mode</c> (none, preferred, required, verify_ca, verify_full),
/// <c>ssl_ca</c>, <c>ssl_cert</c>, <c>ssl_key</c> (file paths), <c>password_file</c>, <c>allow_public_key_retrieval</c>,
/// <c>max_pool_size</c>, <c>min_pool_size</c>, <c>connect_timeout</c> (seconds), <c>hot_path_timeout</c>,
/// <c>migration_timeout</c>, <c>admin_timeout</c> (milliseconds) and <c>contract_migrations</c>.</item>
/// </list>
/// Errors name the configuration key, the URL with its password hidden, and the valid settings.
/// </summary>
public sealed class MySqlStorageProvider : StorageProvider
{
    private const string ValidSettings =
        "valid settings are table_prefix, ssl_mode, ssl_ca, ssl_cert, ssl_key, password_file, allow_public_key_retrieval, max_pool_size, " +
        "min_pool_size, connect_timeout, hot_path_timeout, migration_timeout, admin_timeout, contract_migrations";

    /// <inheritdoc />
    public override string Name => "MySQL";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["mysql", "mariadb"];

    /// <inheritdoc />
    public override StorageRoles Roles => StorageRoles.All;

    /// <inheritdoc />
    public override void Validate(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Options(url, context, context.Services.GetService<MySqlDataSource>(), readSecrets: false);
    }

    /// <inheritdoc />
    public override object Create(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = Options(url, context, context.Services.GetService<MySqlDataSource>(), readSecrets: true);
        // The store's clock is the server's; the host's TimeProvider only drives the engine.
        return new MySqlStorage(options, null, context.LoggerFactory?.CreateLogger("TypedJobs.Storage.MySql"));
    }

    /// <summary>The settings a URL describes; throws <see cref="StorageConfigurationException"/> naming the bad part.</summary>
    internal static MySqlStorageOptions Options(StorageUrl url, StorageProviderContext context, MySqlDataSource? shared, bool readSecrets)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        var options = new MySqlStorageOptions();
        var useShared = url.IsHierarchical && url.Host.Length == 0;
        if (!url.IsHierarchical)
        {
            throw context.Invalid(url, null, url.Redacted,
                "write mysql://user:password@host:3306/database (or mysql:///?table_prefix=… to use the application's MySqlDataSource)");
        }

        var builder = new MySqlConnectionStringBuilder();
        if (!useShared)
        {
            var database = url.Path.TrimStart('/');
            if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
            {
                throw context.Invalid(url, null, url.Redacted, "name the database after the host, e.g. mysql://user:password@host:3306/jobs");
            }

            if (url.Authority.Contains(',', StringComparison.Ordinal))
            {
                throw context.Invalid(url, null, url.Redacted, "give one host (MySQL has no multi-host URLs here; use a connection string in code for failover)");
            }

            builder.Server = url.Host;
            builder.Port = (uint)(url.Port ?? 3306);
            builder.Database = database;
            if (url.UserName is { Length: > 0 } user)
            {
                builder.UserID = user;
            }

            if (url.Password is { } password)
            {
                builder.Password = password;
            }
        }
        else if (url.UserName is not null || url.Path.Trim('/').Length > 0)
        {
            throw context.Invalid(url, null, url.Redacted,
                "a URL without a host uses the application's MySqlDataSource, whose connection settings come from the application: give only store settings (table_prefix, timeouts, contract_migrations)");
        }

        foreach (var (name, value) in url.Query)
        {
            var connectionSetting = name is "ssl_mode" or "ssl_ca" or "ssl_cert" or "ssl_key" or "password_file" or "allow_public_key_retrieval"
                or "max_pool_size" or "min_pool_size" or "connect_timeout";
            if (connectionSetting && useShared)
            {
                throw context.Invalid(url, name, value,
                    "a URL without a host uses the application's MySqlDataSource, so connection settings (TLS, pool, password) belong to it: give only table_prefix, timeouts and contract_migrations");
            }

            switch (name)
            {
                case "table_prefix":
                    if (!MySqlStorageOptions.IsValidPrefix(value))
                    {
                        throw context.Invalid(url, name, value, "use 1-32 letters, digits or '_', starting with a letter or '_'");
                    }

                    options.TablePrefix = value;
                    break;
                case "ssl_mode":
                    builder.SslMode = value.ToLowerInvariant() switch
                    {
                        "none" or "disabled" => MySqlSslMode.None,
                        "preferred" => MySqlSslMode.Preferred,
                        "required" => MySqlSslMode.Required,
                        "verify_ca" => MySqlSslMode.VerifyCA,
                        "verify_full" or "verify_identity" => MySqlSslMode.VerifyFull,
                        _ => throw context.Invalid(url, name, value, "valid values are none, preferred, required, verify_ca, verify_full"),
                    };
                    break;
                case "ssl_ca":
                    builder.SslCa = File(url, context, name, value);
                    break;
                case "ssl_cert":
                    builder.SslCert = File(url, context, name, value);
                    break;
                case "ssl_key":
                    builder.SslKey = File(url, context, name, value);
                    break;
                case "password_file":
                    var path = File(url, context, name, value);
                    if (url.Password is not null)
                    {
                        throw context.Invalid(url, name, value, "give the password either in the URL or in password_file, not both");
                    }

                    if (readSecrets)
                    {
                        builder.Password = System.IO.File.ReadAllText(path).TrimEnd('\r', '\n');
                    }

                    break;
                case "allow_public_key_retrieval":
                    builder.AllowPublicKeyRetrieval = Boolean(url, context, name, value);
                    break;
                case "max_pool_size":
                    builder.MaximumPoolSize = (uint)Integer(url, context, name, value, 1, 10_000, "a whole number");
                    break;
                case "min_pool_size":
                    builder.MinimumPoolSize = (uint)Integer(url, context, name, value, 0, 10_000, "a whole number");
                    break;
                case "connect_timeout":
                    builder.ConnectionTimeout = (uint)Integer(url, context, name, value, 1, 3_600, "seconds");
                    break;
                case "hot_path_timeout":
                    options.HotPathTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 100, 600_000, "milliseconds"));
                    break;
                case "migration_timeout":
                    options.MigrationTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 100, 3_600_000, "milliseconds"));
                    break;
                case "admin_timeout":
                    options.AdminTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 100, 3_600_000, "milliseconds"));
                    break;
                case "contract_migrations":
                    options.ApplyContractMigrations = Boolean(url, context, name, value);
                    break;
                default:
                    throw context.Invalid(url, name, value, ValidSettings);
            }
        }

        if (builder.MinimumPoolSize > builder.MaximumPoolSize)
        {
            throw context.Invalid(url, "min_pool_size", builder.MinimumPoolSize.ToString(CultureInfo.InvariantCulture),
                "must not be larger than max_pool_size");
        }

        if (useShared)
        {
            options.DataSource = shared ?? throw context.Invalid(url, null, url.Redacted,
                "a URL without a host uses the application's MySqlDataSource, and none is registered: register one in DI or give host and database in the URL");
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

    private static string File(StorageUrl url, StorageProviderContext context, string name, string value)
    {
        var path = Path.IsPathRooted(value) ? value : Path.GetFullPath(Path.Combine(context.ContentRoot, value));
        return System.IO.File.Exists(path) ? path : throw context.Invalid(url, name, value, $"the file '{path}' does not exist");
    }

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
