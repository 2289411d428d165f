using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Storage.Sqlite;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs;

/// <summary>Chooses the SQLite store in <c>AddTypedJobs(o =&gt; …)</c>.</summary>
public static class SqliteTypedJobsOptionsExtensions
{
    /// <summary>
    /// Stores every role (jobs, results, events, schedules) in a SQLite database file: WAL journal, one group-committing
    /// writer, <c>synchronous=FULL</c> by default. Several processes may share the file; workers in this process wake at
    /// once when jobs arrive, workers in other processes at their next poll. The store closes the file when the host
    /// has stopped.
    /// </summary>
    /// <param name="options">The TypedJobs options.</param>
    /// <param name="connectionStringOrPath">A file path (<c>jobs.db</c>) or a connection string (<c>Data Source=jobs.db</c>).</param>
    /// <param name="configure">Changes further settings (table prefix, <c>synchronous</c>, busy timeout).</param>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UseSqlite(this TypedJobsOptions options, string connectionStringOrPath,
        Action<SqliteStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connectionStringOrPath);
        var settings = new SqliteStorageOptions { ConnectionString = connectionStringOrPath };
        configure?.Invoke(settings);
        return options.UseSqlite(settings);
    }

    /// <summary>Stores every role in SQLite with fully prepared <paramref name="settings"/> (for example bound from configuration).</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UseSqlite(this TypedJobsOptions options, SqliteStorageOptions settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var frozen = settings.Clone();
        frozen.Validate();
        // Lets the other roles name sqlite: URLs in configuration even in a host the source generator did not see.
        options.AddStorageProvider(new SqliteStorageProvider());
        return options.UseStorage(sp =>
        {
            var storage = new SqliteStorage(frozen, sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>()?.CreateLogger("TypedJobs.Storage.Sqlite"));
            // Once the host has stopped (workers finished), stop the writer thread and close the file.
            sp.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(storage.Dispose);
            return storage;
        });
    }
}
