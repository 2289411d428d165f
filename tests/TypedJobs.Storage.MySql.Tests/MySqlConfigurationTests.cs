using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using TypedJobs.Registration;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.MySql.Internal;

namespace TypedJobs.Storage.MySql.Tests;

[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
internal sealed partial class TestJson : JsonSerializerContext;

/// <summary>
/// Choosing the MySQL store: <c>mysql://</c> URLs and their settings, configuration alone (this project runs the source
/// generator, so the provider is found the way a user's host finds it), <c>UseMySql</c> with the application's data
/// source, TLS, and the startup errors for an unreachable server and a wrong password — none of which shows a secret.
/// </summary>
public sealed class MySqlConfigurationTests : IAsyncLifetime
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(TestJson.Default.Int32);
    private readonly List<IHost> hosts = [];
    private string database = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => database = await MySqlTestServer.CreateDatabaseAsync("cfg");

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }

        MySqlConnection.ClearAllPools();
        await MySqlTestServer.DropDatabaseAsync(database);
    }

    private static StorageProviderContext Context(IServiceProvider? services = null, string key = "TypedJobs:Storage") =>
        new(services ?? new ServiceCollection().BuildServiceProvider(), StorageRoles.All, key, AppContext.BaseDirectory, TimeProvider.System, null);

    private static JobTask<int, int> Doubler() => JobTask.Create("double", Number, Number, (n, _) => ValueTask.FromResult(n * 2));

    /// <summary>The test server as a URL for this test's database.</summary>
    private string Url(string query = "", string? password = null)
    {
        var b = new MySqlConnectionStringBuilder(MySqlTestServer.ConnectionString);
        return $"mysql://{b.UserID}:{Uri.EscapeDataString(password ?? b.Password)}@{b.Server}:{b.Port}/{database}{query}";
    }

    private async Task<IHost> StartHostAsync(Action<IConfigurationBuilder>? configure, Action<TypedJobsOptions>? code = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        configure?.Invoke(builder.Configuration);
        services?.Invoke(builder.Services);
        builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs"), code).AddTask(Doubler())
            .AddWorker(w => w.PollInterval = TimeSpan.FromMilliseconds(100));
        var host = builder.Build();
        try
        {
            await host.StartAsync(Ct);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        hosts.Add(host);
        return host;
    }

    private static async Task<int> RunDoublerAsync(IHost host, int n)
    {
        var handle = await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(Doubler(), n, cancellationToken: Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await handle.GetResultAsync(timeout.Token);
    }

    [Fact]
    public void Url_MapsToConnectionAndStoreSettings()
    {
        var url = StorageUrl.Parse(
            "mysql://app:s%40cret@db.internal:3307/jobs?table_prefix=app_&ssl_mode=required&max_pool_size=40&min_pool_size=2&connect_timeout=7" +
            "&hot_path_timeout=2500&migration_timeout=90000&admin_timeout=30000&contract_migrations=true&allow_public_key_retrieval=true");

        var options = MySqlStorageProvider.Options(url, Context(), null, readSecrets: true);
        var connection = new MySqlConnectionStringBuilder(options.ConnectionString);

        Assert.Equal(("db.internal", 3307u, "jobs", "app", "s@cret"), (connection.Server, connection.Port, connection.Database, connection.UserID, connection.Password));
        Assert.Equal(MySqlSslMode.Required, connection.SslMode);
        Assert.Equal((40u, 2u, 7u), (connection.MaximumPoolSize, connection.MinimumPoolSize, connection.ConnectionTimeout));
        Assert.True(connection.AllowPublicKeyRetrieval);
        Assert.Equal("app_", options.TablePrefix);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.HotPathTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), options.MigrationTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.AdminTimeout);
        Assert.True(options.ApplyContractMigrations);
    }

    [Theory]
    [InlineData("?fsync=1", "fsync", "valid settings are table_prefix, ssl_mode")]
    [InlineData("?ssl_mode=sometimes", "ssl_mode", "valid values are none, preferred, required, verify_ca, verify_full")]
    [InlineData("?table_prefix=1bad-prefix", "table_prefix", "use 1-32 letters, digits or '_'")]
    [InlineData("?hot_path_timeout=soon", "hot_path_timeout", "milliseconds between 100 and 600000")]
    [InlineData("?ssl_ca=/no/such/ca.pem", "ssl_ca", "does not exist")]
    public void Url_BadSetting_NamesTheKeyTheRedactedValueAndTheValidChoices(string query, string setting, string rule)
    {
        var url = StorageUrl.Parse($"mysql://app:topsecret@db:3306/jobs{query}");

        var error = Assert.Throws<StorageConfigurationException>(() => new MySqlStorageProvider().Validate(url, Context(key: "TypedJobs:Storage:Jobs")));

        Assert.Contains("TypedJobs:Storage:Jobs", error.Message);
        Assert.Contains($"setting '{setting}'", error.Message);
        Assert.Contains("mysql://app:***@db:3306/jobs", error.Message);
        Assert.Contains(rule, error.Message);
        Assert.DoesNotContain("topsecret", error.Message);
    }

    [Theory]
    [InlineData("TypedJobs:Storage", "?fsync=1", "setting 'fsync' = '1'",
        "valid settings are table_prefix, ssl_mode, ssl_ca, ssl_cert, ssl_key, password_file, allow_public_key_retrieval, max_pool_size, min_pool_size, connect_timeout, hot_path_timeout, migration_timeout, admin_timeout, contract_migrations")]
    [InlineData("TypedJobs:Storage:Jobs", "?ssl_mode=sometimes", "setting 'ssl_mode' = 'sometimes'", "valid values are none, preferred, required, verify_ca, verify_full")]
    [InlineData("TypedJobs:Storage:Results", "?table_prefix=jobs-", "setting 'table_prefix' = 'jobs-'", "use 1-32 letters, digits or '_', starting with a letter or '_'")]
    [InlineData("TypedJobs:Storage:Events", "?hot_path_timeout=5s", "setting 'hot_path_timeout' = '5s'", "use milliseconds between 100 and 600000")]
    [InlineData("TypedJobs:Storage:Schedules", "?contract_migrations=yes", "setting 'contract_migrations' = 'yes'", "use true or false")]
    [InlineData("TypedJobs:Storage", "?max_pool_size=0", "setting 'max_pool_size' = '0'", "use a whole number between 1 and 10000")]
    [InlineData("TypedJobs:Storage", "?max_pool_size=4&min_pool_size=8", "setting 'min_pool_size' = '8'", "must not be larger than max_pool_size")]
    public async Task BadUrlSetting_StopsStartup_NamingTheKeyTheSettingAndTheValidValues_WithoutThePassword(string key, string query,
        string setting, string valid)
    {
        var configuration = new Dictionary<string, string?> { [key] = Url(query, password: "topsecret-42") };
        if (key != "TypedJobs:Storage" && key != "TypedJobs:Storage:Jobs")
        {
            // The other roles fall back to Jobs; a good Jobs URL shows that the bad role alone stops startup.
            configuration["TypedJobs:Storage:Jobs"] = Url();
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartHostAsync(c => c.AddInMemoryCollection(configuration)));

        Assert.Contains($"Invalid storage {key} = 'mysql://typedjobs:***@", error.Message);
        Assert.Contains(setting, error.Message);
        Assert.Contains(valid, error.Message);
        Assert.DoesNotContain("topsecret-42", error.ToString());
        Assert.Empty(hosts);
        Assert.Equal(0L, Convert.ToInt64(await MySqlTestServer.ScalarAsync(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()", database)));
    }

    [Fact]
    public void Url_WithoutADatabase_IsRefused()
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            new MySqlStorageProvider().Validate(StorageUrl.Parse("mysql://app:topsecret@db:3306/"), Context()));

        Assert.Contains("name the database", error.Message);
        Assert.DoesNotContain("topsecret", error.Message);
    }

    [Fact]
    public void Url_WithoutAHost_NeedsTheApplicationsDataSource()
    {
        using var shared = new MySqlDataSource(MySqlTestServer.For(database));
        var services = new ServiceCollection().AddSingleton(shared).BuildServiceProvider();

        var options = MySqlStorageProvider.Options(StorageUrl.Parse("mysql:///?table_prefix=shared_"), Context(services), shared, readSecrets: true);
        var missing = Assert.Throws<StorageConfigurationException>(() =>
            new MySqlStorageProvider().Validate(StorageUrl.Parse("mysql:///?table_prefix=shared_"), Context()));
        var tls = Assert.Throws<StorageConfigurationException>(() =>
            new MySqlStorageProvider().Validate(StorageUrl.Parse("mysql:///?ssl_mode=required"), Context(services)));

        Assert.Same(shared, options.DataSource);
        Assert.Equal("shared_", options.TablePrefix);
        Assert.Contains("none is registered", missing.Message);
        Assert.Contains("connection settings (TLS, pool, password) belong to it", tls.Message);
    }

    [Fact]
    public async Task ConfigurationAlone_SelectsMySql_AndRunsJobs()
    {
        var host = await StartHostAsync(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = Url("?table_prefix=cfg_"),
        }));

        Assert.Equal(42, await RunDoublerAsync(host, 21));
        Assert.Equal(1L, Convert.ToInt64(await MySqlTestServer.ScalarAsync(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'cfg_jobs'", database)));
    }

    [Fact]
    public async Task UseMySql_WithoutAConnectionString_UsesTheDataSourceFromDI_AndNeverDisposesIt()
    {
        var shared = new MySqlDataSource(MySqlTestServer.For(database));
        var host = await StartHostAsync(null, o => o.UseMySql(m => m.TablePrefix = "di_"), s => s.AddSingleton(shared));

        Assert.Equal(10, await RunDoublerAsync(host, 5));
        await host.StopAsync(Ct);

        await using var connection = await shared.OpenConnectionAsync(Ct);
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM di_jobs";
        Assert.Equal(1L, Convert.ToInt64(await count.ExecuteScalarAsync(Ct)));
        await shared.DisposeAsync();
    }

    [Fact]
    public async Task UseMySql_WithoutAConnectionStringOrADataSource_FailsAtStartup()
    {
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => StartHostAsync(null, o => o.UseMySql()));

        Assert.Contains("MySqlDataSource registered in DI", error.Message);
    }

    [Fact]
    public async Task Startup_UnreachableServer_FailsNamingTheServer_WithoutThePassword()
    {
        var port = FreePort();
        var url = $"mysql://typedjobs:topsecret@127.0.0.1:{port}/{database}?connect_timeout=2";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartHostAsync(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = url,
        })));

        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("no server answered", error.Message);
        Assert.DoesNotContain("topsecret", error.ToString());
    }

    [Fact]
    public async Task Startup_WrongPassword_FailsNamingTheUser_WithoutThePassword()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartHostAsync(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = Url(password: "not-the-password-42"),
        })));

        Assert.Contains("user 'typedjobs'", error.Message);
        Assert.Contains("refused the user name or password", error.Message);
        Assert.DoesNotContain("not-the-password-42", error.ToString());
    }

    [Theory]
    [InlineData("required")]
    [InlineData("verify_ca")]
    public async Task Tls_FromTheUrl_EncryptsTheStoresConnections(string mode)
    {
        var ca = TestServers.Require("TYPEDJOBS_TEST_MYSQL_CA", "MariaDB with TLS");
        var url = StorageUrl.Parse(Url($"?ssl_mode={mode}&ssl_ca={Uri.EscapeDataString(ca)}&table_prefix=tls_"));
        var options = MySqlStorageProvider.Options(url, Context(), null, readSecrets: true);
        await using var storage = new MySqlStorage(options);

        await storage.InitializeAsync(Ct);
        await using var connection = new MySqlConnection(options.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var cipher = connection.CreateCommand();
        cipher.CommandText = "SHOW SESSION STATUS LIKE 'Ssl_cipher'";
        await using var reader = await cipher.ExecuteReaderAsync(Ct);

        Assert.True(await reader.ReadAsync(Ct));
        Assert.NotEqual("", reader.GetString(1));
    }

    [Fact]
    public void Options_Validate_NamesTheKey()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            new MySqlStorageOptions { ConnectionString = "Server=db;Database=x", HotPathTimeout = TimeSpan.Zero }.Validate());
        var noDatabase = Assert.Throws<InvalidOperationException>(() =>
            new MySqlStorageOptions { ConnectionString = "Server=db;Password=topsecret" }.Validate());

        Assert.Contains("TypedJobs:MySql:HotPathTimeout", error.Message);
        Assert.Contains("names no database", noDatabase.Message);
        Assert.DoesNotContain("topsecret", noDatabase.Message);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
