using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Registration;
using TypedJobs.Storage.Memory;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>UseSqlite, the storage URL form and validation of the SQLite settings.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly TempDirectory directory = TempDirectory.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Theory]
    [InlineData("sqlite:jobs.db", "jobs.db")]
    [InlineData("sqlite:data/jobs.db", "data/jobs.db")]
    [InlineData("sqlite:///var/lib/app/jobs.db", "/var/lib/app/jobs.db")]
    [InlineData("SQLite:///tmp/a%20b.db", "/tmp/a b.db")]
    public void Url_Sqlite_MapsToTheFilePath(string url, string path)
    {
        var options = StorageUrl.Parse(url);

        Assert.NotNull(options);
        Assert.Equal(path, options.ConnectionString);
        Assert.Equal(SqliteSynchronous.Full, options.Synchronous);
    }

    [Fact]
    public void Url_QuerySettings_AreApplied()
    {
        var options = StorageUrl.Parse("sqlite:jobs.db?synchronous=normal&busy_timeout=5000&table_prefix=app_&max_write_batch=64");

        Assert.Equal(SqliteSynchronous.Normal, options!.Synchronous);
        Assert.Equal(TimeSpan.FromSeconds(5), options.BusyTimeout);
        Assert.Equal("app_", options.TablePrefix);
        Assert.Equal(64, options.MaxWriteBatch);
    }

    [Fact]
    public void Url_Memory_ChoosesTheInMemoryStore()
    {
        var services = new ServiceCollection();
        services.AddTypedJobs(o => o.UseConnectionUrl("memory:"));
        using var provider = services.BuildServiceProvider();

        Assert.IsType<MemoryStorage>(provider.GetRequiredService<IJobStore>());
        Assert.Null(StorageUrl.Parse("memory:"));
    }

    [Fact]
    public void Url_Sqlite_ChoosesTheSqliteStore()
    {
        var services = new ServiceCollection();
        services.AddTypedJobs(o => o.UseConnectionUrl("sqlite://" + Path.Combine(directory.Path, "url.db")));
        using var provider = services.BuildServiceProvider();

        Assert.IsType<SqliteStorage>(provider.GetRequiredService<IJobStore>());
    }

    [Theory]
    [InlineData("mysql://db/jobs", "TypedJobs:Storage", "sqlite:<path>")]
    [InlineData("postgres://user:secret@db/jobs", "TypedJobs:Storage", "TypedJobs.Storage.Postgres")]
    [InlineData("jobs.db", "TypedJobs:Storage", "memory:")]
    [InlineData("sqlite:", "TypedJobs:Storage", "sqlite:jobs.db")]
    [InlineData("sqlite://host/jobs.db", "TypedJobs:Storage", "sqlite:///absolute/path.db")]
    [InlineData("sqlite:jobs.db?synchronous=fast", "TypedJobs:Sqlite:Synchronous", "off, normal, full, extra")]
    [InlineData("sqlite:jobs.db?busy_timeout=soon", "TypedJobs:Sqlite:BusyTimeout", "milliseconds")]
    [InlineData("sqlite:jobs.db?table_prefix=a-b", "TypedJobs:Sqlite:TablePrefix", "letters, digits or '_'")]
    [InlineData("sqlite:jobs.db?max_write_batch=0", "TypedJobs:Sqlite:MaxWriteBatch", "between 1 and 10000")]
    [InlineData("sqlite:jobs.db?journal=delete", "journal", "synchronous, busy_timeout, table_prefix, max_write_batch")]
    [InlineData("memory:x", "TypedJobs:Storage", "no path")]
    public void Url_Invalid_NamesTheKeyAndTheValidValues(string url, string key, string valid)
    {
        var error = Assert.Throws<InvalidOperationException>(() => new TypedJobsOptions().UseConnectionUrl(url));

        Assert.Contains(key, error.Message);
        Assert.Contains(valid, error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Theory]
    [InlineData(":memory:")]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=x.db;Mode=Memory")]
    [InlineData("Data Source=x.db;Mode=ReadOnly")]
    [InlineData("Data Source=x.db;Bogus=1")]
    [InlineData("  ")]
    public void UseSqlite_UnusableConnectionString_IsRejectedNamingTheKey(string connectionString)
    {
        var error = Assert.Throws<InvalidOperationException>(() => new TypedJobsOptions().UseSqlite(connectionString));

        Assert.Contains("TypedJobs:Sqlite:ConnectionString", error.Message);
    }

    [Fact]
    public void UseSqlite_UndefinedSynchronousValue_NamesTheValidValues()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            new TypedJobsOptions().UseSqlite("jobs.db", o => o.Synchronous = (SqliteSynchronous)7));

        Assert.Contains("TypedJobs:Sqlite:Synchronous", error.Message);
        Assert.Contains("Off, Normal, Full, Extra", error.Message);
    }

    [Fact]
    public async Task HostStart_WithAnInvalidSqliteSetting_StopsWithTheKeyInTheMessage()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddTypedJobs(o => o.UseSqlite(Path.Combine(directory.Path, "jobs.db"), s => s.TablePrefix = "bad prefix")).AddWorker();
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Ct));

        Assert.Contains("TypedJobs:Sqlite:TablePrefix", error.ToString());
        Assert.Contains("'bad prefix'", error.ToString());
    }

    [Fact]
    public async Task UseSqlite_RunsJobsEndToEnd_AndClosesTheFileWhenTheHostStops()
    {
        var doubler = JobTask.Create("double", JobSerializer.FromJsonTypeInfo(TestJson.Default.Int32),
            JobSerializer.FromJsonTypeInfo(TestJson.Default.Int32), (n, _) => ValueTask.FromResult(n * 2));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var path = Path.Combine(directory.Path, "e2e.db");
        builder.Services.AddTypedJobs(o => o.UseConnectionUrl("sqlite://" + path))
            .AddTask(doubler)
            .AddWorker(w => w.PollInterval = TimeSpan.FromSeconds(30));
        using var host = builder.Build();
        await host.StartAsync(Ct);
        try
        {
            var client = host.Services.GetRequiredService<IJobClient>();

            // The poll interval is long: finishing quickly relies on the store's in-process wake-up.
            var handle = await client.EnqueueAsync(doubler, 21, cancellationToken: Ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            var result = await handle.GetResultAsync(timeout.Token);

            Assert.Equal(42, result);
            Assert.Equal(JobState.Succeeded, (await client.GetJobAsync(handle.Id, Ct))!.State);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        // Stopping the host closed the store: the last connection to a WAL database checkpoints and removes the WAL file.
        Assert.True(File.Exists(path));
        Assert.False(File.Exists(path + "-wal"), "The store kept the database open after the host stopped.");
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext;
