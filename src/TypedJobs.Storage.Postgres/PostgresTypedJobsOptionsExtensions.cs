using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using TypedJobs.Storage.Postgres;
using TypedJobs.Storage.Postgres.Internal;

namespace TypedJobs;

/// <summary>Chooses the PostgreSQL store in <c>AddTypedJobs(o =&gt; …)</c>.</summary>
public static class PostgresTypedJobsOptionsExtensions
{
    /// <summary>
    /// Stores every role (jobs, results, events, schedules) in PostgreSQL through a connection pool the store builds from
    /// <paramref name="connectionString"/> (an Npgsql connection string: TLS, authentication, pool size and keep-alive are
    /// its settings). Tables live in <see cref="PostgresStorageOptions.Schema"/> with
    /// <see cref="PostgresStorageOptions.TablePrefix"/> and are created or migrated at startup. The store closes its pool
    /// when the host has stopped.
    /// </summary>
    /// <param name="options">The TypedJobs options.</param>
    /// <param name="connectionString">An Npgsql connection string (<c>Host=db;Database=app;Username=app;Password=…</c>).</param>
    /// <param name="configure">Changes further settings (schema, table prefix, timeouts, wake-up mode).</param>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UsePostgres(this TypedJobsOptions options, string connectionString, Action<PostgresStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var settings = new PostgresStorageOptions { ConnectionString = connectionString };
        configure?.Invoke(settings);
        return options.UsePostgres(settings);
    }

    /// <summary>
    /// Stores every role in PostgreSQL through <paramref name="dataSource"/>, a data source the application already has:
    /// one pool for the application and the store. The store never disposes it.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UsePostgres(this TypedJobsOptions options, NpgsqlDataSource dataSource, Action<PostgresStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var settings = new PostgresStorageOptions { DataSource = dataSource };
        configure?.Invoke(settings);
        return options.UsePostgres(settings);
    }

    /// <summary>
    /// Stores every role in PostgreSQL through the <see cref="NpgsqlDataSource"/> registered in DI (for example by
    /// <c>AddNpgsqlDataSource</c>), unless <paramref name="configure"/> sets a connection string or a data source.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting is invalid, or no data source is registered.</exception>
    public static TypedJobsOptions UsePostgres(this TypedJobsOptions options, Action<PostgresStorageOptions>? configure = null)
    {
        var settings = new PostgresStorageOptions();
        configure?.Invoke(settings);
        return options.UsePostgres(settings);
    }

    /// <summary>Stores every role in PostgreSQL with fully prepared <paramref name="settings"/> (for example bound from configuration).</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UsePostgres(this TypedJobsOptions options, PostgresStorageOptions settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var frozen = settings.Clone();
        var fromServices = frozen.DataSource is null && string.IsNullOrWhiteSpace(frozen.ConnectionString);
        if (!fromServices)
        {
            frozen.Validate();
        }

        // Lets the other roles name postgres:// URLs in configuration even in a host the source generator did not see.
        options.AddStorageProvider(new PostgresStorageProvider());
        return options.UseStorage(sp =>
        {
            var effective = frozen;
            if (fromServices)
            {
                effective = frozen.Clone();
                effective.DataSource = sp.GetService<NpgsqlDataSource>() ?? throw new InvalidOperationException(
                    "UsePostgres() without a connection string uses the NpgsqlDataSource registered in DI, and none is registered: register one or pass a connection string.");
            }

            var loggers = sp.GetService<ILoggerFactory>();
            var storage = new PostgresStorage(effective, null, loggers?.CreateLogger("TypedJobs.Storage.Postgres"), loggers);
            // Once the host has stopped (workers finished), stop listening and close the store's own pool.
            sp.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(storage.Dispose);
            return storage;
        });
    }
}
