using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TypedJobs.Tests;

public class ConfigurationTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Theory]
    [InlineData("redis://:Ab3x/Qz9+k=@cache.example.net:6380", "Ab3x", "Qz9")]
    [InlineData("redis://:1234/rest@cache.example.net:6379", "1234", "rest")]
    [InlineData("postgres://app:se?cr3t@db.example:5432/jobs", "app:se", "cr3t")]
    public void StorageUrl_WhoseRawPasswordHoldsASlashOrQuestionMark_IsRefused_WithoutQuotingAnyPartOfIt(string url, string part1, string part2)
    {
        // Read as written, the pieces of such a password become the port, the path or the settings, and errors about
        // those quoted them ("the port 'Ab3x' is not a number", "':1234' is not a host").
        var error = Assert.Throws<FormatException>(() => Storage.StorageUrl.Parse(url));

        Assert.Contains("percent-encode", error.Message);
        Assert.DoesNotContain(part1, error.Message);
        Assert.DoesNotContain(part2, error.Message);
        Assert.Equal("***", Storage.StorageUrl.RedactText(url));
    }

    [Fact]
    public void StorageUrl_APercentEncodedAtSignInTheSettingsOrPath_IsRead()
    {
        var url = Storage.StorageUrl.Parse("redis://user:p%2Fw%3Fd@cache.example.net:6379/0?prefix=team%40app:");

        Assert.Equal(("user", "p/w?d", "cache.example.net", 6379, "/0", "team@app:"), (url.UserName, url.Password, url.Host, url.Port, url.Path, url.Get("prefix")));
        Assert.Equal("redis://user:***@cache.example.net:6379/0?prefix=team%40app%3A", url.Redacted);
    }

    [Fact]
    public void HostSettings_AreBoundFromTheTypedJobsSection_AndCodeWins()
    {
        var config = Config(
            ("TypedJobs:DefaultQueue", "work"),
            ("TypedJobs:DefaultMaxRetries", "4"),
            ("TypedJobs:DefaultRetryDelay", "00:00:05"),
            ("TypedJobs:MaxPayloadBytes", "2048"),
            ("TypedJobs:RecordEvents", "true"),
            ("TypedJobs:Scheduler:MissedRuns", "Skip"));
        var services = new ServiceCollection();

        services.AddTypedJobs(config.GetSection("TypedJobs"), o =>
        {
            o.UseInMemory();
            o.MaxPayloadBytes = 4096;
        });
        var options = services.BuildServiceProvider().GetRequiredService<IOptions<TypedJobsOptions>>().Value;

        Assert.Equal("work", options.DefaultQueue);
        Assert.Equal(4, options.DefaultMaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(5), options.DefaultRetryDelay);
        Assert.Equal(4096, options.MaxPayloadBytes);
        Assert.True(options.RecordEvents);
        Assert.Equal(MissedRunPolicy.Skip, options.Scheduler.MissedRuns);
    }

    [Fact]
    public async Task AValueThatDoesNotConvert_StopsStartup_NamingItsKey()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(Config(("TypedJobs:DefaultMaxRetries", "many")).GetSection("TypedJobs"), o => o.UseInMemory());
        using var host = builder.Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("TypedJobs:DefaultMaxRetries", ex.Message);
    }

    [Theory]
    [InlineData("DeadRetention", "-00:00:01")]
    [InlineData("DeadRetention", "3660000.00:00:00")]
    [InlineData("SucceededRetention", "10675199.02:48:05.4775807")]
    public async Task ARetentionNoClockCanSubtract_StopsStartup_NamingItsKeyAndTheValidRange(string key, string value)
    {
        // A prune subtracts the retention from the store's clock: 10,000 years before now is before the year 1.
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(Config(("TypedJobs:" + key, value)).GetSection("TypedJobs"), o => o.UseInMemory());
        using var host = builder.Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains($"TypedJobs:{key} = '", ex.Message);
        Assert.Contains("between 0 and 36525 days (0 keeps jobs forever)", ex.Message);
    }

    [Fact]
    public async Task WorkerSettings_AreBound_AndAListReplacesTheDefault()
    {
        var config = Config(
            ("TypedJobs:Worker:Queues:0", "emails"),
            ("TypedJobs:Worker:Queues:1", "reports"),
            ("TypedJobs:Worker:Concurrency", "3"),
            ("TypedJobs:Worker:QueueConcurrency:reports", "1"),
            ("TypedJobs:Worker:LeaseDuration", "00:01:00"),
            ("TypedJobs:Worker:PrefetchWindow", "00:00:00.020"),
            ("TypedJobs:Worker:WorkerId", "configured"));
        WorkerOptions? seen = null;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(o => o.UseInMemory()).AddWorker(config.GetSection("TypedJobs:Worker"), w => seen = w);
        using var host = builder.Build();
        await host.StartAsync();
        await host.StopAsync();

        Assert.NotNull(seen);
        Assert.Equal(["emails", "reports"], seen.Queues);
        Assert.Equal(3, seen.Concurrency);
        Assert.Equal(1, seen.QueueConcurrency["reports"]);
        Assert.Equal(TimeSpan.FromMinutes(1), seen.LeaseDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(20), seen.PrefetchWindow);
        Assert.Equal("configured", seen.WorkerId);
    }

    [Fact]
    public async Task InvalidWorkerSettingFromConfiguration_StopsStartup_NamingTheKey()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(o => o.UseInMemory()).AddWorker(Config(("Concurrency", "-2")));
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("TypedJobs:Worker:Concurrency = '-2'", ex.Message);

        var prefetch = Host.CreateApplicationBuilder();
        prefetch.Services.AddTypedJobs(o => o.UseInMemory()).AddWorker(Config(("PrefetchWindow", "-00:00:01")));
        using var prefetchHost = prefetch.Build();
        var prefetchError = await Assert.ThrowsAsync<InvalidOperationException>(() => prefetchHost.StartAsync());
        Assert.Contains("TypedJobs:Worker:PrefetchWindow = '-00:00:01'", prefetchError.Message);
        Assert.Contains("Timeout.InfiniteTimeSpan", prefetchError.Message);
    }

    [Fact]
    public async Task NothingConfigured_AndNoDefaultStoragePackage_StopsStartup_SayingHowToChoose()
    {
        // This project does not run the source generator, so no SQLite provider is registered: there is no default.
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(Config().GetSection("TypedJobs")).AddWorker();
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("TypedJobs:Storage", error.Message);
        Assert.Contains("'memory:'", error.Message);
        Assert.Contains("TypedJobs.Storage.Sqlite", error.Message);
    }

    [Fact]
    public async Task StorageUrls_FromConfiguration_PlaceRolesOnBuiltInBackends_WithoutAnyCode()
    {
        var results = Path.Combine(Path.GetTempPath(), "typedjobs-config-" + Guid.NewGuid().ToString("N"));
        var config = Config(("TypedJobs:Storage", "memory:"), ("TypedJobs:Storage:Results", "file://" + results));
        var task = Registration.JobTask.Create("triple", Support.TestHost.IntSerializer, Support.TestHost.IntSerializer, (n, _) => ValueTask.FromResult(n * 3));
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(config.GetSection("TypedJobs")).AddTask(task).AddWorker();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<IJobClient>();
            var handle = await client.EnqueueAsync(task, 5);

            Assert.Equal(15, await handle.GetResultAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.IsType<Storage.Memory.MemoryStorage>(host.Services.GetRequiredService<Storage.IJobStore>());
            Assert.Single(Directory.EnumerateFiles(results, "*.result", SearchOption.AllDirectories));
        }
        finally
        {
            await host.StopAsync();
            Directory.Delete(results, recursive: true);
        }
    }
}
