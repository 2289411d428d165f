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
        return options.UseStorage(sp =>
        {
            var storage = new SqliteStorage(frozen, sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>()?.CreateLogger("TypedJobs.Storage.Sqlite"));
            // Once the host has stopped (workers finished), stop the writer thread and close the file.
            sp.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(storage.Dispose);
            return storage;
        });
    }

    /// <summary>
    /// Chooses storage from a URL, as written in configuration (<c>TypedJobs:Storage</c>):
    /// <list type="bullet">
    /// <item><c>sqlite:jobs.db</c> — a file relative to the working directory;</item>
    /// <item><c>sqlite:///var/lib/app/jobs.db</c> — an absolute path;</item>
    /// <item>query settings: <c>?synchronous=normal&amp;busy_timeout=5000&amp;table_prefix=app_&amp;max_write_batch=128</c>;</item>
    /// <item><c>memory:</c> — the in-process store (<see cref="TypedJobsOptions.UseInMemory()"/>).</item>
    /// </list>
    /// </summary>
    /// <exception cref="InvalidOperationException">The URL or one of its settings is invalid; the message names the key and the valid values.</exception>
    public static TypedJobsOptions UseConnectionUrl(this TypedJobsOptions options, string url)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(url);
        var parsed = StorageUrl.Parse(url);
        return parsed is null ? options.UseInMemory() : options.UseSqlite(parsed);
    }
}
