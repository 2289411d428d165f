using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TypedJobs.Storage;
using TypedJobs.Storage.Redis;
using TypedJobs.Storage.Redis.Internal;

namespace TypedJobs;

/// <summary>Chooses the Redis store in <c>AddTypedJobs(o =&gt; …)</c>.</summary>
public static class RedisTypedJobsOptionsExtensions
{
    /// <summary>
    /// Stores every role in Redis, on a connection the store opens from <paramref name="configuration"/>: a
    /// StackExchange.Redis configuration string (<c>localhost:6379,password=…</c>) or a URL
    /// (<c>redis://user:password@host:6379/0?prefix=app:</c>, <c>rediss://…</c> for TLS). The connection is closed when
    /// the host has stopped. An application that already has an <see cref="IConnectionMultiplexer"/> should pass it
    /// instead (or call <see cref="UseRedis(TypedJobsOptions, Action{RedisStorageOptions}?)"/>), so no second connection is opened.
    /// </summary>
    /// <param name="options">The TypedJobs options.</param>
    /// <param name="configuration">Where Redis is.</param>
    /// <param name="configure">Changes further settings (key prefix, replicas, timeouts).</param>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names it and the valid values, never a password.</exception>
    public static TypedJobsOptions UseRedis(this TypedJobsOptions options, string configuration, Action<RedisStorageOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var settings = new RedisStorageOptions { Configuration = configuration };
        configure?.Invoke(settings);
        return options.UseRedis(settings);
    }

    /// <summary>
    /// Stores every role in Redis on a connection the application owns. The store never disposes it and never opens
    /// another one.
    /// </summary>
    /// <param name="options">The TypedJobs options.</param>
    /// <param name="multiplexer">The application's connection.</param>
    /// <param name="configure">Changes further settings (key prefix, database, replicas).</param>
    public static TypedJobsOptions UseRedis(this TypedJobsOptions options, IConnectionMultiplexer multiplexer, Action<RedisStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        var settings = new RedisStorageOptions { Multiplexer = multiplexer };
        configure?.Invoke(settings);
        return options.UseRedis(settings);
    }

    /// <summary>
    /// Stores every role in Redis as <paramref name="configure"/> sets it; with neither a configuration nor a multiplexer
    /// set, on the <see cref="IConnectionMultiplexer"/> registered in dependency injection.
    /// </summary>
    public static TypedJobsOptions UseRedis(this TypedJobsOptions options, Action<RedisStorageOptions>? configure = null)
    {
        var settings = new RedisStorageOptions();
        configure?.Invoke(settings);
        return options.UseRedis(settings);
    }

    /// <summary>Stores every role in Redis with fully prepared <paramref name="settings"/> (for example bound from configuration).</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names it and the valid values.</exception>
    public static TypedJobsOptions UseRedis(this TypedJobsOptions options, RedisStorageOptions settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var frozen = settings.Clone();
        ConfigurationOptions? configuration = null;
        if (frozen.Multiplexer is null && !string.IsNullOrWhiteSpace(frozen.Configuration))
        {
            configuration = Configuration(frozen);
        }

        frozen.Validate();
        if (configuration is not null)
        {
            RedisStorageProvider.Apply(frozen, configuration);
        }

        // Lets the other roles name redis: URLs in configuration even in a host the source generator did not see.
        options.AddStorageProvider(new RedisStorageProvider());
        return options.UseStorage(sp =>
        {
            RedisConnection connection;
            if (configuration is not null)
            {
                connection = new RedisConnection(configuration, frozen.Database, frozen.ReadFromReplicas);
            }
            else
            {
                var multiplexer = frozen.Multiplexer ?? sp.GetService<IConnectionMultiplexer>() ?? throw new InvalidOperationException(
                    "UseRedis() was given neither a configuration nor a connection, and no IConnectionMultiplexer is registered: pass \"host:6379\" or your IConnectionMultiplexer.");
                connection = new RedisConnection(multiplexer, frozen.Database, frozen.ReadFromReplicas);
            }

            var storage = new RedisStorage(frozen, connection, sp.GetService<ILoggerFactory>()?.CreateLogger("TypedJobs.Storage.Redis"), null, "UseRedis");
            // Once the host has stopped (workers finished), close the connection the store opened.
            sp.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(storage.Dispose);
            return storage;
        });
    }

    /// <summary>The connection a configuration string or URL describes; URL settings go into <paramref name="settings"/>.</summary>
    private static ConfigurationOptions Configuration(RedisStorageOptions settings)
    {
        var text = settings.Configuration!.Trim();
        if (text.StartsWith("redis:", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss:", StringComparison.OrdinalIgnoreCase))
        {
            var url = StorageUrl.TryParse(text, out var error)
                      ?? throw new InvalidOperationException($"Invalid setting TypedJobs:Redis:Configuration = '{StorageUrl.RedactText(text)}': {error}.");
            var context = new StorageProviderContext(EmptyServices.Instance, StorageRoles.All, "TypedJobs:Redis:Configuration", "", TimeProvider.System, null);
            var (fromUrl, configuration) = RedisStorageProvider.Options(url, context);
            if (configuration is null)
            {
                throw new InvalidOperationException(
                    $"Invalid setting TypedJobs:Redis:Configuration = '{url.Redacted}': give a host, e.g. redis://localhost:6379.");
            }

            // Settings in the URL apply unless code changed them from their defaults.
            var defaults = new RedisStorageOptions();
            settings.KeyPrefix = settings.KeyPrefix == defaults.KeyPrefix ? fromUrl.KeyPrefix : settings.KeyPrefix;
            settings.Database = settings.Database == defaults.Database ? fromUrl.Database : settings.Database;
            settings.ReadFromReplicas |= fromUrl.ReadFromReplicas;
            settings.CommandTimeout = settings.CommandTimeout == defaults.CommandTimeout ? fromUrl.CommandTimeout : settings.CommandTimeout;
            settings.ConnectTimeout = settings.ConnectTimeout == defaults.ConnectTimeout ? fromUrl.ConnectTimeout : settings.ConnectTimeout;
            settings.EventStreamMaxLength = settings.EventStreamMaxLength == defaults.EventStreamMaxLength
                ? fromUrl.EventStreamMaxLength
                : settings.EventStreamMaxLength;
            settings.WakeUpWindow = settings.WakeUpWindow == defaults.WakeUpWindow ? fromUrl.WakeUpWindow : settings.WakeUpWindow;
            return configuration;
        }

        try
        {
            var parsed = ConfigurationOptions.Parse(text);
            return parsed;
        }
        catch (ArgumentException ex)
        {
            // The parser names the bad option; the text itself may hold a password, so it is not repeated.
            throw new InvalidOperationException($"Invalid setting TypedJobs:Redis:Configuration: {ex.Message}", ex);
        }
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
