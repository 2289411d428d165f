using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedJobs.Storage.Redis.Internal;

[assembly: TypedJobs.Storage.StorageProvider(typeof(TypedJobs.Storage.Redis.RedisStorageProvider))]

namespace TypedJobs.Storage.Redis;

/// <summary>
/// Opens <c>redis:</c> and <c>rediss:</c> (TLS) URLs for every role:
/// <list type="bullet">
/// <item><c>redis://host:6379</c>, <c>redis://user:password@host:6379/2</c> (database 2), <c>rediss://host:6380</c>;</item>
/// <item>a cluster: <c>redis://node1:7000,node2:7001,node3:7002</c> (any reachable nodes; the others are discovered);</item>
/// <item><c>redis:</c> with no host uses the application's <see cref="IConnectionMultiplexer"/> from dependency injection;</item>
/// <item>settings: <c>?prefix=app:&amp;read_from_replicas=true&amp;timeout=5000&amp;connect_timeout=5000&amp;events_max_length=1000000&amp;wake_window_ms=2&amp;client_name=api&amp;ssl_host=redis.example.com</c>.</item>
/// </list>
/// </summary>
public sealed class RedisStorageProvider : StorageProvider
{
    private const string ValidSettings =
        "valid settings are prefix, read_from_replicas, timeout, connect_timeout, events_max_length, wake_window_ms, client_name, ssl_host";

    /// <inheritdoc />
    public override string Name => "Redis";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["redis", "rediss"];

    /// <inheritdoc />
    public override StorageRoles Roles => StorageRoles.All;

    /// <inheritdoc />
    public override void Validate(StorageUrl url, StorageProviderContext context) => Options(url, context);

    /// <inheritdoc />
    public override object Create(StorageUrl url, StorageProviderContext context)
    {
        var (options, configuration) = Options(url, context);
        RedisConnection connection;
        if (configuration is null)
        {
            var shared = context.Services.GetService<IConnectionMultiplexer>() ?? throw context.Invalid(url, null, url.Redacted,
                "a redis: URL without a host uses the application's IConnectionMultiplexer, and none is registered; write redis://host:6379 or register one");
            connection = new RedisConnection(shared, options.Database, options.ReadFromReplicas);
        }
        else
        {
            connection = new RedisConnection(configuration, options.Database, options.ReadFromReplicas);
        }

        return new RedisStorage(options, connection, context.LoggerFactory?.CreateLogger("TypedJobs.Storage.Redis"), null, context.ConfigurationKey);
    }

    /// <summary>The settings and connection a URL describes (no connection: the application's multiplexer).</summary>
    internal static (RedisStorageOptions Options, ConfigurationOptions? Configuration) Options(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        var options = new RedisStorageOptions();
        ConfigurationOptions? configuration = null;
        if (url.IsHierarchical && url.Authority.Length > 0)
        {
            configuration = new ConfigurationOptions
            {
                Ssl = url.Scheme == "rediss",
                User = string.IsNullOrEmpty(url.UserName) ? null : url.UserName,
                Password = url.Password,
                AbortOnConnectFail = true,
            };
            foreach (var endpoint in url.Authority.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parsed = StorageUrl.TryParse("redis://" + endpoint, out _);
                if (parsed is null || parsed.Host.Length == 0)
                {
                    throw context.Invalid(url, null, url.Redacted, $"'{endpoint}' is not a host or host:port");
                }

                configuration.EndPoints.Add(parsed.Host, parsed.Port ?? 6379);
            }

            var path = url.Path.Trim('/');
            if (path.Length > 0)
            {
                if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var database) || database > 10_000)
                {
                    throw context.Invalid(url, "database", path, "the path is the database number, e.g. redis://host:6379/0");
                }

                options.Database = database;
            }
        }
        else if (url.Path.Length > 0)
        {
            throw context.Invalid(url, null, url.Redacted, "write redis://host:6379 (or redis: alone for the application's IConnectionMultiplexer)");
        }

        foreach (var (name, value) in url.Query)
        {
            switch (name)
            {
                case "prefix":
                    if (!RedisStorageOptions.IsValidPrefix(value))
                    {
                        throw context.Invalid(url, name, value, "use 1-64 characters without '{', '}', spaces or control characters");
                    }

                    options.KeyPrefix = value;
                    break;
                case "read_from_replicas":
                    options.ReadFromReplicas = value.ToLowerInvariant() switch
                    {
                        "true" or "1" => true,
                        "false" or "0" => false,
                        _ => throw context.Invalid(url, name, value, "use true or false"),
                    };
                    break;
                case "timeout":
                    options.CommandTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 1, 600_000));
                    break;
                case "connect_timeout":
                    options.ConnectTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 1, 600_000));
                    break;
                case "events_max_length":
                    options.EventStreamMaxLength = Integer(url, context, name, value, 1, int.MaxValue);
                    break;
                case "wake_window_ms":
                    options.WakeUpWindow = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 0, 1000));
                    break;
                case "client_name" when configuration is not null:
                    configuration.ClientName = value;
                    break;
                case "ssl_host" when configuration is not null:
                    configuration.SslHost = value;
                    break;
                default:
                    throw context.Invalid(url, name, value, ValidSettings);
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

        if (configuration is not null)
        {
            Apply(options, configuration);
        }

        return (options, configuration);
    }

    /// <summary>Sets the timeouts of a connection the store opens itself.</summary>
    internal static void Apply(RedisStorageOptions options, ConfigurationOptions configuration)
    {
        configuration.AsyncTimeout = (int)options.CommandTimeout.TotalMilliseconds;
        configuration.SyncTimeout = (int)options.CommandTimeout.TotalMilliseconds;
        configuration.ConnectTimeout = (int)options.ConnectTimeout.TotalMilliseconds;
        if (options.Database >= 0)
        {
            configuration.DefaultDatabase = options.Database;
        }
    }

    private static int Integer(StorageUrl url, StorageProviderContext context, string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw context.Invalid(url, name, value, $"use a whole number between {min} and {max}");
}
