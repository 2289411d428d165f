using System.Globalization;
using Microsoft.Extensions.Logging;
using TypedJobs.Storage.Sqlite.Internal;

[assembly: TypedJobs.Storage.StorageProvider(typeof(TypedJobs.Storage.Sqlite.SqliteStorageProvider))]

namespace TypedJobs.Storage.Sqlite;

/// <summary>
/// Opens <c>sqlite:</c> URLs for every role, and is the default storage when nothing is configured
/// (<c>sqlite:typedjobs.db</c> under the content root):
/// <list type="bullet">
/// <item><c>sqlite:jobs.db</c> — a file relative to the host's content root;</item>
/// <item><c>sqlite:///var/lib/app/jobs.db</c> — an absolute path;</item>
/// <item>settings: <c>?synchronous=normal&amp;busy_timeout=5000&amp;migration_timeout=60000&amp;table_prefix=app_&amp;max_write_batch=128&amp;contract_migrations=true</c>.</item>
/// </list>
/// </summary>
public sealed class SqliteStorageProvider : StorageProvider
{
    /// <inheritdoc />
    public override string Name => "SQLite";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["sqlite"];

    /// <inheritdoc />
    public override StorageRoles Roles => StorageRoles.All;

    /// <inheritdoc />
    public override string? DefaultUrl => "sqlite:typedjobs.db";

    /// <inheritdoc />
    public override void Validate(StorageUrl url, StorageProviderContext context) => Options(url, context);

    /// <inheritdoc />
    public override object Create(StorageUrl url, StorageProviderContext context)
    {
        var options = Options(url, context);
        return new SqliteStorage(options, context.TimeProvider, context.LoggerFactory?.CreateLogger("TypedJobs.Storage.Sqlite"));
    }

    /// <summary>The settings a URL describes; throws <see cref="StorageConfigurationException"/> naming the bad part.</summary>
    internal static SqliteStorageOptions Options(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        if (url.IsHierarchical && url.Authority.Length > 0)
        {
            throw context.Invalid(url, null, url.Redacted, "write sqlite:relative/path.db or sqlite:///absolute/path.db (three slashes)");
        }

        if (url.Path.Length == 0)
        {
            throw context.Invalid(url, null, url.Redacted, "give the database file, e.g. sqlite:jobs.db");
        }

        var path = Path.IsPathRooted(url.Path) ? url.Path : Path.GetFullPath(Path.Combine(context.ContentRoot, url.Path));
        var options = new SqliteStorageOptions { ConnectionString = path };
        foreach (var (name, value) in url.Query)
        {
            switch (name)
            {
                case "synchronous":
                    options.Synchronous = value.ToLowerInvariant() switch
                    {
                        "off" => SqliteSynchronous.Off,
                        "normal" => SqliteSynchronous.Normal,
                        "full" => SqliteSynchronous.Full,
                        "extra" => SqliteSynchronous.Extra,
                        _ => throw context.Invalid(url, name, value, "valid values are off, normal, full, extra"),
                    };
                    break;
                case "busy_timeout":
                    options.BusyTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 0, 3_600_000, "milliseconds"));
                    break;
                case "migration_timeout":
                    options.MigrationTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 0, 3_600_000, "milliseconds"));
                    break;
                case "table_prefix":
                    if (!SqliteStorageOptions.IsValidPrefix(value))
                    {
                        throw context.Invalid(url, name, value, "use 1-32 letters, digits or '_', starting with a letter or '_'");
                    }

                    options.TablePrefix = value;
                    break;
                case "max_write_batch":
                    options.MaxWriteBatch = Integer(url, context, name, value, 1, 10_000, "a whole number");
                    break;
                case "contract_migrations":
                    options.ApplyContractMigrations = value.ToLowerInvariant() switch
                    {
                        "true" or "1" => true,
                        "false" or "0" => false,
                        _ => throw context.Invalid(url, name, value, "use true or false"),
                    };
                    break;
                default:
                    throw context.Invalid(url, name, value,
                        "valid settings are synchronous, busy_timeout, migration_timeout, table_prefix, max_write_batch, contract_migrations");
            }
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

    private static int Integer(StorageUrl url, StorageProviderContext context, string name, string value, int min, int max, string unit) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw context.Invalid(url, name, value, $"use {unit} between {min} and {max}");
}
