using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using TypedJobs.Storage.MySql;
using TypedJobs.Storage.MySql.Internal;

namespace TypedJobs;

/// <summary>Chooses the MySQL / MariaDB store in <c>AddTypedJobs(o =&gt; …)</c>.</summary>
public static class MySqlTypedJobsOptionsExtensions
{
    /// <summary>
    /// Stores every role (jobs, results, events, schedules) in MySQL 8.0+ or MariaDB 10.6+ through a connection pool the
    /// store builds from <paramref name="connectionString"/> (a MySqlConnector connection string: TLS, authentication, pool
    /// size and connect timeout are its settings). Tables get <see cref="MySqlStorageOptions.TablePrefix"/> and are
    /// created or migrated at startup. The store's clock is the server's. The store closes its pool when the host has
    /// stopped.
    /// </summary>
    /// <param name="options">The TypedJobs options.</param>
    /// <param name="connectionString">A MySqlConnector connection string (<c>Server=db;Database=app;User ID=app;Password=…</c>).</param>
    /// <param name="configure">Changes further settings (table prefix, timeouts, contract migrations).</param>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UseMySql(this TypedJobsOptions options, string connectionString, Action<MySqlStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var settings = new MySqlStorageOptions { ConnectionString = connectionString };
        configure?.Invoke(settings);
        return options.UseMySql(settings);
    }

    /// <summary>
    /// Stores every role in MySQL or MariaDB through <paramref name="dataSource"/>, a data source the application already
    /// has: one pool for the application and the store. The store never disposes it.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UseMySql(this TypedJobsOptions options, MySqlDataSource dataSource, Action<MySqlStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var settings = new MySqlStorageOptions { DataSource = dataSource };
        configure?.Invoke(settings);
        return options.UseMySql(settings);
    }

    /// <summary>
    /// Stores every role in MySQL or MariaDB through the <see cref="MySqlDataSource"/> registered in DI (for example by
    /// <c>AddMySqlDataSource</c>), unless <paramref name="configure"/> sets a connection string or a data source.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting is invalid, or no data source is registered.</exception>
    public static TypedJobsOptions UseMySql(this TypedJobsOptions options, Action<MySqlStorageOptions>? configure = null)
    {
        var settings = new MySqlStorageOptions();
        configure?.Invoke(settings);
        return options.UseMySql(settings);
    }

    /// <summary>Stores every role in MySQL or MariaDB with fully prepared <paramref name="settings"/> (for example bound from configuration).</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UseMySql(this TypedJobsOptions options, MySqlStorageOptions settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var frozen = settings.Clone();
        var fromServices = frozen.DataSource is null && string.IsNullOrWhiteSpace(frozen.ConnectionString);
        if (fromServices)
        {
            // Everything but the connection is checked now; the data source comes from DI when the host builds the store.
            var check = frozen.Clone();
            check.ConnectionString = "Server=localhost;Database=check";
            check.Validate();
        }
        else
        {
            frozen.Validate();
        }

        // Lets the other roles name mysql:// URLs in configuration even in a host the source generator did not see.
        options.AddStorageProvider(new MySqlStorageProvider());
        return options.UseStorage(sp =>
        {
            var effective = frozen;
            if (fromServices)
            {
                effective = frozen.Clone();
                effective.DataSource = sp.GetService<MySqlDataSource>() ?? throw new InvalidOperationException(
                    "UseMySql() without a connection string uses the MySqlDataSource registered in DI, and none is registered: register one (AddMySqlDataSource) or pass a connection string.");
            }

            var storage = new MySqlStorage(effective, null, sp.GetService<ILoggerFactory>()?.CreateLogger("TypedJobs.Storage.MySql"));
            // Once the host has stopped (workers finished), close the store's own pool.
            sp.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(storage.Dispose);
            return storage;
        });
    }
}
