using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using TypedJobs.Registration;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Redis.Internal;

namespace TypedJobs.Storage.Redis.Tests;

[JsonSerializable(typeof(int))]
internal sealed partial class RedisTestJson : JsonSerializerContext;

/// <summary>
/// Choosing Redis: <c>redis://</c> URLs from configuration alone (this project runs the source generator, so the Redis
/// provider is found the way a user's host finds it), the errors that name the key and hide the password, and
/// <c>UseRedis</c> with a connection string or the application's own multiplexer.
/// </summary>
public sealed class RedisConfigurationTests : IAsyncDisposable
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(RedisTestJson.Default.Int32);
    private readonly string prefix = "tjc:" + Guid.NewGuid().ToString("N")[..12] + ":";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Endpoint => TestServers.Require("TYPEDJOBS_TEST_REDIS", "Redis");

    public async ValueTask DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_REDIS") is { Length: > 0 } endpoint)
        {
            await SharedConnections.DeleteKeysAsync(await SharedConnections.GetAsync(endpoint), "{" + prefix + "*");
        }
    }

    private static StorageProviderContext Context(IServiceProvider? services = null) =>
        new(services ?? new ServiceCollection().BuildServiceProvider(), StorageRoles.All, "TypedJobs:Storage", "", TimeProvider.System, null);

    private static JobTask<int, int> Doubler() => JobTask.Create("double", Number, Number, (n, _) => ValueTask.FromResult(n * 2));

    private static async Task<int> RunDoublerAsync(IHost host, int n)
    {
        var client = host.Services.GetRequiredService<IJobClient>();
        var handle = await client.EnqueueAsync(Doubler(), n, cancellationToken: Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await handle.GetResultAsync(timeout.Token);
    }

    [Theory]
    [InlineData("redis://user:s3cret@localhost:6379?colour=blue", "colour", "valid settings are prefix, read_from_replicas")]
    [InlineData("redis://:s3cret@localhost:6379?prefix=%7Bapp%7D", "prefix", "without '{', '}'")]
    [InlineData("rediss://user:s3cret@localhost:6380?timeout=soon", "timeout", "whole number")]
    [InlineData("redis://user:s3cret@localhost:6379/db7", "database", "database number")]
    [InlineData("redis://user:s3cret@localhost:6379?read_from_replicas=maybe", "read_from_replicas", "true or false")]
    public void Url_WithABadSetting_IsRejectedNamingTheKeyTheSettingAndTheValidValues_NeverThePassword(string url, string setting, string rule)
    {
        var parsed = StorageUrl.Parse(url);

        var error = Assert.Throws<StorageConfigurationException>(() => new RedisStorageProvider().Validate(parsed, Context()));

        Assert.Contains("TypedJobs:Storage", error.Message, StringComparison.Ordinal);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
        Assert.Contains("***", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Url_WithoutAHost_NeedsTheApplicationsMultiplexer()
    {
        var error = Assert.Throws<StorageConfigurationException>(() => new RedisStorageProvider().Create(StorageUrl.Parse("redis:?prefix=app:"), Context()));

        Assert.Contains("IConnectionMultiplexer", error.Message, StringComparison.Ordinal);
        Assert.Contains("TypedJobs:Storage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Url_ReadsHostsDatabaseTlsAndSettings()
    {
        var (options, configuration) = RedisStorageProvider.Options(
            StorageUrl.Parse("rediss://app:pw@a.example:7000,b.example/3?prefix=shop:&read_from_replicas=true&timeout=2500&wake_window_ms=0"), Context());

        Assert.NotNull(configuration);
        Assert.True(configuration.Ssl);
        Assert.Equal(("app", "pw"), (configuration.User, configuration.Password));
        Assert.Equal(["a.example:7000", "b.example:6379"], configuration.EndPoints.Select(e => e is System.Net.DnsEndPoint d ? $"{d.Host}:{d.Port}" : e.ToString()));
        Assert.Equal((3, "shop:", true, TimeSpan.FromMilliseconds(2500), TimeSpan.Zero),
            (options.Database, options.KeyPrefix, options.ReadFromReplicas, options.CommandTimeout, options.WakeUpWindow));
        Assert.Equal(2500, configuration.AsyncTimeout);
    }

    [Fact]
    public async Task ConfigurationAlone_SelectsRedisByUrl_AndRunsJobs()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = $"redis://{Endpoint}?prefix={prefix}",
        });
        builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs")).AddTask(Doubler()).AddWorker();
        using var host = builder.Build();
        await host.StartAsync(Ct);

        var result = await RunDoublerAsync(host, 21);
        var store = host.Services.GetRequiredService<IJobStore>();
        await host.StopAsync(Ct);

        Assert.Equal(42, result);
        Assert.IsType<RedisStorage>(store);
        Assert.Equal(prefix, ((RedisStorage)store).Keys.Prefix);
    }

    [Fact]
    public async Task UseRedis_WithoutAConnection_UsesTheApplicationsMultiplexer_AndNeverOpensASecondOne()
    {
        var multiplexer = await SharedConnections.GetAsync(Endpoint);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IConnectionMultiplexer>(multiplexer);
        builder.Services.AddTypedJobs(o => o.UseRedis(r => r.KeyPrefix = prefix)).AddTask(Doubler()).AddWorker();
        using var host = builder.Build();
        await host.StartAsync(Ct);

        var result = await RunDoublerAsync(host, 4);
        var store = (RedisStorage)host.Services.GetRequiredService<IJobStore>();
        await host.StopAsync(Ct);

        Assert.Equal(8, result);
        Assert.Same(multiplexer, store.Connection.Multiplexer);
        Assert.True(multiplexer.IsConnected, "The store must not dispose the application's connection.");
    }

    [Fact]
    public async Task UseRedis_WithAUrl_OpensItsOwnConnection_AndTakesTheUrlsPrefix()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddTypedJobs(o => o.UseRedis($"redis://{Endpoint}/0?prefix={prefix}")).AddTask(Doubler()).AddWorker();
        using var host = builder.Build();
        await host.StartAsync(Ct);

        var result = await RunDoublerAsync(host, 5);
        var store = (RedisStorage)host.Services.GetRequiredService<IJobStore>();
        await host.StopAsync(Ct);

        Assert.Equal(10, result);
        Assert.Equal(prefix, store.Keys.Prefix);
    }

    [Fact]
    public void UseRedis_WithABadPrefix_FailsNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new TypedJobsOptions().UseRedis("localhost:6379", r => r.KeyPrefix = "a b"));

        Assert.Contains("TypedJobs:Redis:KeyPrefix", error.Message, StringComparison.Ordinal);
        Assert.Contains("'a b'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_OnAConnectionWithoutAdminMode_ReadsAofFromInfo_AndStillDeclaresDurable()
    {
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        await using var store = new RedisStorage(new RedisStorageOptions { KeyPrefix = prefix }, new RedisConnection(multiplexer, -1, false));

        await store.InitializeAsync(Ct);

        Assert.True(store.Capabilities.HasFlag(StorageCapabilities.Durable), "The test server keeps an append-only file.");
    }
}
