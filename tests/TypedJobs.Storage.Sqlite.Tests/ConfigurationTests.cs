using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Registration;
using TypedJobs.Storage.Memory;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>
/// Choosing storage: <c>sqlite:</c> URLs, <c>TypedJobs:Storage</c> from configuration alone (a value for every role, or
/// one per role with fallbacks), the default, the errors that name the key, and <c>UseSqlite</c>. This project runs the
/// source generator, so the SQLite provider is found the way a user's host finds it.
/// </summary>
public sealed class ConfigurationTests : IDisposable
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(TestJson.Default.Int32);
    private readonly TempDirectory directory = TempDirectory.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    private StorageProviderContext Context(string key = "TypedJobs:Storage") =>
        new(new ServiceCollection().BuildServiceProvider(), StorageRoles.All, key, directory.Path, TimeProvider.System, null);

    private static JobTask<int, int> Doubler() => JobTask.Create("double", Number, Number, (n, _) => ValueTask.FromResult(n * 2));

    /// <summary>A host whose configuration comes from <paramref name="configure"/> and whose content root is the test directory.</summary>
    private IHost BuildHost(Action<IConfigurationBuilder> configure, Action<TypedJobsBuilder>? jobs = null, Action<TypedJobsOptions>? code = null,
        ILoggerProvider? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = directory.Path, DisableDefaults = true });
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        configure(builder.Configuration);
        var typedJobs = builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs"), code).AddTask(Doubler());
        jobs?.Invoke(typedJobs);
        return builder.Build();
    }

    private static async Task<int> RunDoublerAsync(IHost host, int n)
    {
        var client = host.Services.GetRequiredService<IJobClient>();
        var handle = await client.EnqueueAsync(Doubler(), n, cancellationToken: Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await handle.GetResultAsync(timeout.Token);
    }

    [Theory]
    [InlineData("sqlite:jobs.db", "jobs.db")]
    [InlineData("sqlite:data/jobs.db", "data/jobs.db")]
    [InlineData("sqlite:///var/lib/app/jobs.db", "/var/lib/app/jobs.db")]
    [InlineData("SQLite:///tmp/a%20b.db", "/tmp/a b.db")]
    public void Url_Sqlite_MapsToTheFile_RelativePathsUnderTheContentRoot(string url, string path)
    {
        var options = SqliteStorageProvider.Options(StorageUrl.Parse(url), Context());

        Assert.Equal(Path.IsPathRooted(path) ? path : Path.Combine(directory.Path, path), options.ConnectionString);
        Assert.Equal(SqliteSynchronous.Full, options.Synchronous);
    }

    [Fact]
    public void Url_QuerySettings_AreApplied()
    {
        var url = StorageUrl.Parse("sqlite:jobs.db?synchronous=normal&busy_timeout=2000&migration_timeout=90000&table_prefix=app_&max_write_batch=64&contract_migrations=true");

        var options = SqliteStorageProvider.Options(url, Context());

        Assert.Equal(SqliteSynchronous.Normal, options.Synchronous);
        Assert.Equal(TimeSpan.FromSeconds(2), options.BusyTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), options.MigrationTimeout);
        Assert.Equal("app_", options.TablePrefix);
        Assert.Equal(64, options.MaxWriteBatch);
        Assert.True(options.ApplyContractMigrations);
    }

    [Theory]
    [InlineData("sqlite:", "sqlite:jobs.db")]
    [InlineData("sqlite://host/jobs.db", "sqlite:///absolute/path.db")]
    [InlineData("sqlite:jobs.db?synchronous=fast", "off, normal, full, extra")]
    [InlineData("sqlite:jobs.db?busy_timeout=soon", "milliseconds")]
    [InlineData("sqlite:jobs.db?table_prefix=a-b", "letters, digits or '_'")]
    [InlineData("sqlite:jobs.db?max_write_batch=0", "between 1 and 10000")]
    [InlineData("sqlite:jobs.db?journal=delete", "synchronous, busy_timeout, migration_timeout, table_prefix, max_write_batch")]
    public void Url_Invalid_NamesTheKeyAndTheValidValues(string url, string valid)
    {
        var error = Assert.Throws<StorageConfigurationException>(() => SqliteStorageProvider.Options(StorageUrl.Parse(url), Context("TypedJobs:Storage:Jobs")));

        Assert.Contains("TypedJobs:Storage:Jobs", error.Message);
        Assert.Contains(valid, error.Message);
    }

    [Fact]
    public async Task ConfigurationOnly_OneUrl_PutsEveryRoleInThatFile_UnderTheContentRoot()
    {
        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?> { ["TypedJobs:Storage"] = "sqlite:data/app.db" }),
            j => j.AddWorker());
        await host.StartAsync(Ct);

        Assert.Equal(42, await RunDoublerAsync(host, 21));
        var jobs = host.Services.GetRequiredService<IJobStore>();
        Assert.IsType<SqliteStorage>(jobs);
        Assert.True(File.Exists(Path.Combine(directory.Path, "data", "app.db")));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task EnvironmentVariables_SetTheValueAndARoleOverride_ResultsGoToFiles()
    {
        var results = Path.Combine(directory.Path, "results");
        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // What TypedJobs__Storage=… and TypedJobs__Storage__Results=… become: a value and a child under one key.
            ["TypedJobs:Storage"] = "sqlite:jobs.db",
            ["TypedJobs:Storage:Results"] = "file://" + results,
            ["TypedJobs:Storage:Events"] = "memory:",
            ["TypedJobs:RecordEvents"] = "true",
        }), j => j.AddWorker());
        await host.StartAsync(Ct);

        Assert.Equal(10, await RunDoublerAsync(host, 5));

        Assert.IsType<SqliteStorage>(host.Services.GetRequiredService<IJobStore>());
        Assert.Single(Directory.EnumerateFiles(results, "*.result", SearchOption.AllDirectories));
        var admin = host.Services.GetRequiredService<IJobAdmin>();
        var job = (await admin.ListJobsAsync(new JobsListParams(), Ct)).Jobs.Single();
        await Poll(async () => (await admin.GetEventsAsync(job.Id, cancellationToken: Ct)).Count >= 3, "the events in the memory store");
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task EnvironmentVariables_FromTheProcess_AreRead()
    {
        var prefix = "TJTEST" + Guid.NewGuid().ToString("N")[..8] + "_";
        Environment.SetEnvironmentVariable(prefix + "TypedJobs__Storage", "sqlite:env.db");
        Environment.SetEnvironmentVariable(prefix + "TypedJobs__Storage__Results", "memory:");
        try
        {
            using var host = BuildHost(c => c.AddEnvironmentVariables(prefix), j => j.AddWorker());
            await host.StartAsync(Ct);

            Assert.Equal(4, await RunDoublerAsync(host, 2));

            Assert.True(File.Exists(Path.Combine(directory.Path, "env.db")));
            var handle = (await host.Services.GetRequiredService<IJobAdmin>().ListJobsAsync(new JobsListParams(), Ct)).Jobs.Single();
            Assert.Null((await ((IResultStore)host.Services.GetRequiredService<IJobStore>())
                .ResultsGetAsync(new ResultsGetParams(handle.Id, handle.SucceededLeaseToken!.Value), Ct)).Result);
            await host.StopAsync(Ct);
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "TypedJobs__Storage", null);
            Environment.SetEnvironmentVariable(prefix + "TypedJobs__Storage__Results", null);
        }
    }

    [Fact]
    public async Task AppSettingsJson_ObjectForm_PlacesEachRole_AndMissingRolesFallBackToJobs()
    {
        File.WriteAllText(Path.Combine(directory.Path, "appsettings.json"), $$"""
            {
              "TypedJobs": {
                "Storage": {
                  "Jobs": "sqlite:json.db?table_prefix=app_",
                  "Results": "file:results"
                }
              }
            }
            """);
        using var host = BuildHost(c => c.SetBasePath(directory.Path).AddJsonFile("appsettings.json"), j => j.AddWorker());
        await host.StartAsync(Ct);

        Assert.Equal(6, await RunDoublerAsync(host, 3));

        Assert.Single(Directory.EnumerateFiles(Path.Combine(directory.Path, "results"), "*.result", SearchOption.AllDirectories));
        // Events and schedules were not placed: they live with the jobs.
        var scheduleAdmin = host.Services.GetRequiredService<IScheduleAdmin>();
        await scheduleAdmin.AddOrUpdateAsync(new ScheduleDefinition { Name = "later", TaskName = "double", RunAt = DateTimeOffset.UtcNow.AddDays(1) }, Ct);
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(directory.Path, "json.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM app_schedules";
        Assert.Equal(1L, command.ExecuteScalar());
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task YamlFile_PlacesEachRole()
    {
        File.WriteAllText(Path.Combine(directory.Path, "typedjobs.yaml"), """
            TypedJobs:
              Storage:
                Jobs: "sqlite:yaml.db"
                Results: "memory:"
                Events: "file:unused"
              DefaultQueue: default
            """);
        using var host = BuildHost(c => c.SetBasePath(directory.Path).AddYamlFile("typedjobs.yaml"), j => j.AddWorker());

        // The events role cannot live on files: startup names the key and what the file store holds.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Ct));
        Assert.Contains("TypedJobs:Storage:Events", error.Message);
        Assert.Contains("Results", error.Message);

        File.WriteAllText(Path.Combine(directory.Path, "typedjobs.yaml"), """
            TypedJobs:
              Storage:
                Jobs: "sqlite:yaml.db"
                Results: "memory:"
            """);
        using var fixedHost = BuildHost(c => c.SetBasePath(directory.Path).AddYamlFile("typedjobs.yaml"), j => j.AddWorker());
        await fixedHost.StartAsync(Ct);
        Assert.Equal(8, await RunDoublerAsync(fixedHost, 4));
        Assert.True(File.Exists(Path.Combine(directory.Path, "yaml.db")));
        await fixedHost.StopAsync(Ct);
    }

    [Fact]
    public async Task NothingConfigured_UsesSqliteInTypedJobsDb_AndSaysSoOnce()
    {
        var logs = new ListLoggerProvider();
        using var host = BuildHost(_ => { }, j => j.AddWorker(), logs: logs);
        await host.StartAsync(Ct);

        Assert.Equal(2, await RunDoublerAsync(host, 1));

        Assert.True(File.Exists(Path.Combine(directory.Path, "typedjobs.db")));
        Assert.Single(logs.Messages, m => m.Contains("not configured", StringComparison.Ordinal) && m.Contains("sqlite:typedjobs.db", StringComparison.Ordinal));
        await host.StopAsync(Ct);
    }

    [Theory]
    [InlineData("TypedJobs:Storage:Results", "redis://user:secret@cache:6379/0", "Unsupported storage 'redis' for role Results (TypedJobs:Storage:Results); installed: ", "'redis' needs the package TypedJobs.Storage.Redis")]
    [InlineData("TypedJobs:Storage", "postgres://app:secret@db/jobs", "Unsupported storage 'postgres' for role Jobs (TypedJobs:Storage)", "TypedJobs.Storage.Postgres")]
    [InlineData("TypedJobs:Storage", "ftp://files", "Unsupported storage 'ftp'", "sqlite")]
    [InlineData("TypedJobs:Storage:Jobs", "jobs.db", "Invalid storage TypedJobs:Storage:Jobs = 'jobs.db'", "no scheme")]
    [InlineData("TypedJobs:Storage:Results", "sqlite:jobs.db?synchronous=fast", "TypedJobs:Storage:Results", "off, normal, full, extra")]
    [InlineData("TypedJobs:Storage:Result", "memory:", "Unknown storage key TypedJobs:Storage:Result", "Jobs, Results, Events and Schedules")]
    [InlineData("TypedJobs:Storage:Jobs", "file:///var/results", "cannot hold the Jobs role", "Results")]
    [InlineData("TypedJobs:Storage", "memory:later", "'memory:later'", "write 'memory:'")]
    public async Task BadStorage_StopsStartup_NamingTheKeyTheValueAndTheChoices_WithoutSecrets(string key, string value, string expected, string choices)
    {
        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }), j => j.AddWorker());

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Ct));

        Assert.Contains(expected, error.Message);
        Assert.Contains(choices, error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public async Task Code_WinsOverConfiguration_RoleByRole()
    {
        var results = new MemoryStorage();
        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?> { ["TypedJobs:Storage"] = "sqlite:code.db" }),
            j => j.AddWorker(), o => o.UseStorage(_ => results, StorageRoles.Results));
        await host.StartAsync(Ct);

        Assert.Equal(14, await RunDoublerAsync(host, 7));

        Assert.IsType<SqliteStorage>(host.Services.GetRequiredService<IJobStore>());
        var job = (await host.Services.GetRequiredService<IJobAdmin>().ListJobsAsync(new JobsListParams(), Ct)).Jobs.Single();
        Assert.NotNull((await results.ResultsGetAsync(new ResultsGetParams(job.Id, job.SucceededLeaseToken!.Value), Ct)).Result);
        await host.StopAsync(Ct);
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
        var doubler = Doubler();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var path = Path.Combine(directory.Path, "e2e.db");
        builder.Services.AddTypedJobs(o => o.UseSqlite(path))
            .AddTask(doubler)
            .AddWorker(w => w.PollInterval = TimeSpan.FromSeconds(30));
        using var host = builder.Build();
        await host.StartAsync(Ct);
        try
        {
            // The poll interval is long: finishing quickly relies on the store's in-process wake-up.
            Assert.Equal(42, await RunDoublerAsync(host, 21));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        // Stopping the host closed the store: the last connection to a WAL database checkpoints and removes the WAL file.
        Assert.True(File.Exists(path));
        Assert.False(File.Exists(path + "-wal"), "The store kept the database open after the host stopped.");
    }

    [Fact]
    public void StorageUrl_RedactsPasswordsAndSecretSettings()
    {
        var url = StorageUrl.Parse("postgres://app:p%40ss@db.example:5432/jobs?sslmode=require&password=also&api_key=k");

        Assert.Equal(("app", "p@ss", "db.example", 5432, "/jobs"), (url.UserName, url.Password, url.Host, url.Port, url.Path));
        Assert.Equal("postgres://app:***@db.example:5432/jobs?sslmode=require&password=***&api_key=***", url.Redacted);
        Assert.DoesNotContain("p@ss", url.ToString());
    }

    private static async Task Poll(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(20, Ct);
        }
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        private readonly List<string> messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (messages)
                {
                    return messages.ToArray();
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new ListLogger(this);

        public void Dispose()
        {
        }

        private sealed class ListLogger(ListLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.messages)
                {
                    owner.messages.Add(formatter(state, exception));
                }
            }
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext;
