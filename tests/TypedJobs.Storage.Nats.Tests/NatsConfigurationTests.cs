using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Events;
using TypedJobs.Registration;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Nats.Internal;

namespace TypedJobs.Storage.Nats.Tests;

/// <summary>
/// <c>nats://</c> and <c>tls://</c> URLs: their settings and errors, the jobs role refused with the reason, and hosts that
/// put results, events and schedules on NATS from configuration alone while jobs stay on SQLite. This project runs the
/// source generator, so the NATS provider is found the way a user's host finds it.
/// </summary>
public sealed class NatsConfigurationTests : IAsyncDisposable
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(NatsTestJson.Default.Int32);
    private readonly string directory = Path.Combine(Path.GetTempPath(), "typedjobs-nats-" + Guid.NewGuid().ToString("N"));
    private readonly string prefix = "tj" + Guid.NewGuid().ToString("N")[..12];

    public NatsConfigurationTests()
    {
        Directory.CreateDirectory(directory);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_NATS") is { Length: > 0 } server)
        {
            await using var store = new NatsStorage(new NatsStorageOptions { Url = server, BucketPrefix = prefix }, TimeProvider.System, null);
            await NatsTestSupport.DeleteAsync(store);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    private StorageProviderContext Context(StorageRoles roles = StorageRoles.Results, string key = "TypedJobs:Storage:Results") =>
        new(new ServiceCollection().BuildServiceProvider(), roles, key, directory, TimeProvider.System, null);

    private static JobTask<int, int> Doubler() => JobTask.Create("double", Number, Number, (n, _) => ValueTask.FromResult(n * 2));

    [Fact]
    public void Url_Settings_AreApplied()
    {
        var url = StorageUrl.Parse("nats://app:s%40cret@nats1:4222,nats2:4223?bucket_prefix=orders&replicas=3&storage=memory&results_max_age=172800"
                                   + "&events_max_age=3600&events_max_bytes=10485760&timeout=2500&connect_timeout=1500&token=abc");

        var options = NatsStorageProvider.Options(url, Context());

        Assert.Equal("nats://app:s%40cret@nats1:4222,nats://app:s%40cret@nats2:4223", options.Url);
        Assert.Equal("orders", options.BucketPrefix);
        Assert.Equal(3, options.Replicas);
        Assert.True(options.MemoryStorage);
        Assert.Equal(TimeSpan.FromDays(2), options.ResultsMaxAge);
        Assert.Equal(TimeSpan.FromHours(1), options.EventsMaxAge);
        Assert.Equal(10L << 20, options.EventsMaxBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal("abc", options.Token);
        Assert.False(options.Tls);
    }

    [Fact]
    public void Url_Defaults_AndTlsScheme()
    {
        var plain = NatsStorageProvider.Options(StorageUrl.Parse("nats://localhost"), Context());
        var tls = NatsStorageProvider.Options(StorageUrl.Parse("TLS://localhost:4443"), Context());

        Assert.Equal("typedjobs", plain.BucketPrefix);
        Assert.Equal(1, plain.Replicas);
        Assert.False(plain.MemoryStorage);
        Assert.Equal(TimeSpan.FromDays(7), plain.ResultsMaxAge);
        Assert.True(tls.Tls);
        Assert.Equal("tls://localhost:4443", tls.Url);
    }

    [Theory]
    [InlineData("nats://h?bucket_prefix=a.b", "bucket_prefix", "letters, digits")]
    [InlineData("nats://h?replicas=7", "replicas", "between 1 and 5")]
    [InlineData("nats://h?storage=disk", "storage", "file, memory")]
    [InlineData("nats://h?results_max_age=10", "results_max_age", "seconds between 60")]
    [InlineData("nats://h?events_max_bytes=12", "events_max_bytes", "at least 1048576")]
    [InlineData("nats://h?timeout=soon", "timeout", "milliseconds")]
    [InlineData("nats://h?tls_ca=/no/such/ca.pem", "tls_ca", "does not exist")]
    [InlineData("nats://h?bucket=x", "bucket", "valid settings are bucket_prefix, replicas")]
    [InlineData("nats://h/jobs", null, "no path")]
    public void Url_BadValues_NameTheKeyTheSettingAndTheChoices(string url, string? setting, string rule)
    {
        var error = Assert.Throws<StorageConfigurationException>(() => NatsStorageProvider.Options(StorageUrl.Parse(url), Context()));

        Assert.Contains("TypedJobs:Storage:Results", error.Message, StringComparison.Ordinal);
        if (setting is not null)
        {
            Assert.Contains($"setting '{setting}'", error.Message, StringComparison.Ordinal);
        }

        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Url_Errors_NeverShowThePassword()
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            NatsStorageProvider.Options(StorageUrl.Parse("nats://app:hunter2@h?replicas=9&token=t0ken"), Context()));

        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("t0ken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JobsRole_IsRefused_WithTheReason()
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            StorageProviders.Open("nats://app:hunter2@localhost:4222", StorageRoles.Jobs, configurationKey: "TypedJobs:Storage"));

        Assert.Contains("The NATS storage cannot hold the Jobs role (TypedJobs:Storage = 'nats://app:***@localhost:4222')", error.Message, StringComparison.Ordinal);
        Assert.Contains("it holds: Results, Events, Schedules", error.Message, StringComparison.Ordinal);
        Assert.Contains("no priorities, due times or listing", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_NatsForEveryRole_StopsTheHostNamingTheJobsRole()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = directory, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["TypedJobs:Storage"] = "nats://localhost:4222" });
        builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs")).AddTask(Doubler()).AddWorker();
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await host.StartAsync(Ct));

        Assert.Contains("cannot hold the Jobs role", error.Message, StringComparison.Ordinal);
        Assert.Contains("TypedJobs:Storage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseNats_WithTheJobsRole_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new TypedJobsOptions().UseNats("nats://localhost", StorageRoles.All));

        Assert.Contains("cannot hold the Jobs role", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_JobsOnSqlite_ResultsEventsAndSchedulesOnNats_RunsAJobEndToEnd()
    {
        var server = NatsStorageFactory.ServerUrl;
        var nats = $"{server}?bucket_prefix={prefix}";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = directory, DisableDefaults = true });
        // What TypedJobs__Storage=sqlite:jobs.db and TypedJobs__Storage__Results=nats://… become.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = "sqlite:jobs.db",
            ["TypedJobs:Storage:Results"] = nats,
            ["TypedJobs:Storage:Events"] = nats,
            ["TypedJobs:Storage:Schedules"] = nats,
            ["TypedJobs:RecordEvents"] = "true",
        });
        builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs")).AddTask(Doubler()).AddWorker();
        using var host = builder.Build();
        await host.StartAsync(Ct);

        var client = host.Services.GetRequiredService<IJobClient>();
        var handle = await client.EnqueueAsync(Doubler(), 21, cancellationToken: Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        Assert.Equal(42, await handle.GetResultAsync(timeout.Token));

        Assert.Equal("SqliteStorage", host.Services.GetRequiredService<IJobStore>().GetType().Name);
        var job = await client.GetJobAsync(handle.Id, Ct);
        await using var store = new NatsStorage(new NatsStorageOptions { Url = server, BucketPrefix = prefix }, TimeProvider.System, null);
        await store.InitializeAsync(Ct);
        Assert.NotNull((await store.ResultsGetAsync(new ResultsGetParams(handle.Id, job!.SucceededLeaseToken!.Value), Ct)).Result);
        await Eventually(async () => (await store.EventsListAsync(new EventsListParams(handle.Id), Ct)).Events.Select(e => e.Kind).ToList() is var kinds
                                     && kinds.Contains(JobEventKind.Started) && kinds.Contains(JobEventKind.Succeeded), "the events on NATS");
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task TlsUrl_WithUserAndPassword_StoresAndReadsAResult()
    {
        var url = TestServers.Require("TYPEDJOBS_TEST_NATS_TLS", "NATS with TLS");
        var ca = TestServers.Require("TYPEDJOBS_TEST_NATS_TLS_CA", "NATS with TLS");
        var store = (NatsStorage)StorageProviders.Open($"{url}?bucket_prefix={prefix}&tls_ca={Uri.EscapeDataString(ca)}", StorageRoles.Results);
        await using (store)
        {
            await store.InitializeAsync(Ct);
            var (id, attempt) = (JobId.New(), Guid.NewGuid());

            await store.ResultsSetAsync(new ResultsSetParams([new ResultWrite(id, attempt, [7], TimeSpan.FromMinutes(5))]), Ct);

            Assert.Equal(new byte[] { 7 }, (await store.ResultsGetAsync(new ResultsGetParams(id, attempt), Ct)).Result!.Value);
            await NatsTestSupport.DeleteAsync(store);
        }
    }

    [Fact]
    public async Task TlsUrl_WithAWrongPassword_FailsNamingTheServerWithoutThePassword()
    {
        var url = TestServers.Require("TYPEDJOBS_TEST_NATS_TLS", "NATS with TLS").Replace("typedjobs:typedjobs@", "typedjobs:wrong-secret@", StringComparison.Ordinal);
        var ca = TestServers.Require("TYPEDJOBS_TEST_NATS_TLS_CA", "NATS with TLS");
        var store = (NatsStorage)StorageProviders.Open($"{url}?bucket_prefix={prefix}&tls_ca={Uri.EscapeDataString(ca)}&connect_timeout=3000", StorageRoles.Results);
        await using (store)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.InitializeAsync(Ct));

            Assert.Contains("cannot connect", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("wrong-secret", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Schedules_ScheduleNamesWithAnyCharacters_StayDistinct()
    {
        await using var factory = new NatsStorageFactory();
        var store = (NatsStorage)await factory.OpenAsync(TimeProvider.System, Ct);
        await store.InitializeAsync(Ct);
        string[] names = ["a.b", "a=2Eb", "a b", "ä/ö*>", "a_b", "A_b"];

        foreach (var name in names)
        {
            await store.SchedulesUpsertAsync(new SchedulesUpsertParams(new ScheduleRecord { Name = name, TaskName = "t", Interval = TimeSpan.FromMinutes(1) }), Ct);
        }

        var listed = (await store.SchedulesListAsync(new SchedulesListParams(), Ct)).Schedules.Select(s => s.Name).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), listed);
        foreach (var name in names)
        {
            Assert.Equal(name, (await store.SchedulesGetAsync(new SchedulesGetParams(name), Ct)).Schedule!.Name);
        }
    }

    [Fact]
    public async Task Events_QueueNamesWithDotsAndWildcards_AreListedPerJob()
    {
        await using var factory = new NatsStorageFactory();
        var store = (NatsStorage)await factory.OpenAsync(TimeProvider.System, Ct);
        await store.InitializeAsync(Ct);
        var (a, b) = (JobId.New(), JobId.New());
        JobEvent Event(JobId id, string queue) => new() { Kind = JobEventKind.Enqueued, JobId = id, TaskName = "t", Queue = queue, Timestamp = DateTimeOffset.UtcNow };

        await store.EventsAppendAsync(new EventsAppendParams([Event(a, "orders.eu"), Event(b, "*"), Event(a, ">"), Event(b, "q w")]), Ct);

        Assert.Equal(["orders.eu", ">"], (await store.EventsListAsync(new EventsListParams(a), Ct)).Events.Select(e => e.Queue));
        Assert.Equal(["*", "q w"], (await store.EventsListAsync(new EventsListParams(b), Ct)).Events.Select(e => e.Queue));
    }

    [Fact]
    public void SubjectToken_EscapesEverythingButLettersDigitsDashAndUnderscore()
    {
        Assert.Equal("orders", NatsStorage.SubjectToken("orders"));
        Assert.Equal("a%2Eb%2A%3E%20%25", NatsStorage.SubjectToken("a.b*> %"));
        Assert.Equal("%C3%A4", NatsStorage.SubjectToken("ä"));
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50, Ct);
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
internal sealed partial class NatsTestJson : System.Text.Json.Serialization.JsonSerializerContext;
