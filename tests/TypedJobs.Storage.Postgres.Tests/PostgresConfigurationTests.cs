using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using TypedJobs.Registration;
using TypedJobs.Storage.Postgres.Internal;

namespace TypedJobs.Storage.Postgres.Tests;

/// <summary>
/// Choosing the PostgreSQL store: <c>postgres://</c> URLs (settings, errors that name the key and never the password),
/// configuration alone (this project runs the source generator, which registers the provider), a data source from DI,
/// TLS, a password file, and clear startup errors for an unreachable server and wrong credentials.
/// </summary>
public sealed class PostgresConfigurationTests : IAsyncLifetime
{
    private static readonly JobSerializer<int> Number = JobSerializer.FromJsonTypeInfo(PostgresTestJson.Default.Int32);
    private readonly string schema = PostgresTestServer.NewSchemaName();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await PostgresTestServer.DropSchemaAsync(schema);

    private static StorageProviderContext Context(IServiceProvider? services = null, string key = "TypedJobs:Storage") =>
        new(services ?? new ServiceCollection().BuildServiceProvider(), StorageRoles.All, key, "/srv/app", TimeProvider.System, null);

    private static JobTask<int, int> Doubler() => JobTask.Create("double", Number, Number, (n, _) => ValueTask.FromResult(n * 2));

    private static NpgsqlConnectionStringBuilder Server => new(PostgresTestServer.ConnectionString);

    private string Url(string user = "postgres", string? password = null, string? query = null) =>
        $"postgres://{user}{(password is null ? "" : ":" + password)}@{Server.Host}:{Server.Port}/{Server.Database}?schema={schema}{query}";

    private static async Task<int> RunDoublerAsync(IHost host, int n)
    {
        var handle = await host.Services.GetRequiredService<IJobClient>().EnqueueAsync(Doubler(), n, cancellationToken: Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await handle.GetResultAsync(timeout.Token);
    }

    private static IHost BuildHost(Action<IConfigurationBuilder> configure, Action<IServiceCollection>? services = null, Action<TypedJobsOptions>? code = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        configure(builder.Configuration);
        services?.Invoke(builder.Services);
        builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs"), code).AddTask(Doubler()).AddWorker();
        return builder.Build();
    }

    [Fact]
    public void Url_MapsToTheConnectionStringAndTheStoreSettings()
    {
        var url = StorageUrl.Parse("postgresql://app:p%40ss@db.example:6432/jobs?schema=work&table_prefix=app_&sslmode=verify-full&sslrootcert=certs/ca.pem" +
                                   "&sslcert=/etc/c.pem&sslkey=/etc/c.key&passfile=/etc/pgpass&pool_min=2&pool_max=50&connect_timeout=7&keepalive=30" +
                                   "&application_name=shop&hot_path_timeout=3000&migration_timeout=90000&bulk_timeout=45000&wake=poll&notify_window=20" +
                                   "&prepare=false&contract_migrations=true");

        var options = PostgresStorageProvider.Options(url, Context(), null);
        var cs = new NpgsqlConnectionStringBuilder(options.ConnectionString);

        Assert.Equal(("db.example", 6432, "jobs", "app", "p@ss"), (cs.Host, cs.Port, cs.Database, cs.Username, cs.Password));
        Assert.Equal((SslMode.VerifyFull, "/srv/app/certs/ca.pem", "/etc/c.pem", "/etc/c.key", "/etc/pgpass"),
            (cs.SslMode, cs.RootCertificate, cs.SslCertificate, cs.SslKey, cs.Passfile));
        Assert.Equal((2, 50, 7, 30, "shop"), (cs.MinPoolSize, cs.MaxPoolSize, cs.Timeout, cs.KeepAlive, cs.ApplicationName));
        Assert.Equal(("work", "app_"), (options.Schema, options.TablePrefix));
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(45)), (options.HotPathTimeout, options.MigrationTimeout, options.BulkTimeout));
        Assert.Equal((PostgresWakeUp.Poll, TimeSpan.FromMilliseconds(20), false, true),
            (options.WakeUp, options.NotifyWindow, options.PrepareStatements, options.ApplyContractMigrations));
    }

    [Theory]
    [InlineData("postgres://u:secret@db/jobs?sslmode=on", "disable, allow, prefer, require, verify-ca, verify-full")]
    [InlineData("postgres://u:secret@db/jobs?schema=a-b", "letters, digits or '_'")]
    [InlineData("postgres://u:secret@db/jobs?table_prefix=x%3Bdrop", "letters, digits or '_'")]
    [InlineData("postgres://u:secret@db/jobs?pool_max=lots", "between 1 and 1000")]
    [InlineData("postgres://u:secret@db/jobs?wake=push", "poll (for PgBouncer")]
    [InlineData("postgres://u:secret@db/jobs?sslmod=require", "valid settings are schema, table_prefix, sslmode")]
    [InlineData("postgres://u:secret@db", "name the database")]
    [InlineData("postgres:jobs", "postgres://user:password@host:5432/database")]
    [InlineData("postgres:///?schema=jobs", "none is registered")]
    public void Url_Invalid_NamesTheKeyAndTheValidValues_NeverThePassword(string text, string valid)
    {
        var error = Assert.Throws<StorageConfigurationException>(() =>
            PostgresStorageProvider.Options(StorageUrl.Parse(text), Context(key: "TypedJobs:Storage:Jobs"), null));

        Assert.Contains("TypedJobs:Storage:Jobs", error.Message);
        Assert.Contains(valid, error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public async Task ConfigurationOnly_APostgresUrl_SelectsTheStore_AndRunsJobs()
    {
        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?> { ["TypedJobs:Storage"] = Url() }));
        await host.StartAsync(Ct);

        Assert.Equal(42, await RunDoublerAsync(host, 21));
        Assert.IsType<PostgresStorage>(host.Services.GetRequiredService<IJobStore>());
        Assert.Equal(1L, await PostgresTestServer.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".typedjobs_jobs"));
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task DataSourceFromDI_IsTheOnePoolTheStoreUses_ByCodeAndByAUrlWithoutHost()
    {
        await using var shared = NpgsqlDataSource.Create(PostgresTestServer.ConnectionString);
        using var byCode = BuildHost(_ => { }, s => s.AddSingleton(shared), o => o.UsePostgres(p => p.Schema = schema));
        using var byUrl = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?> { ["TypedJobs:Storage"] = $"postgres:///?schema={schema}" }),
            s => s.AddSingleton(shared));
        await byCode.StartAsync(Ct);
        await byUrl.StartAsync(Ct);

        Assert.Equal(4, await RunDoublerAsync(byCode, 2));
        Assert.Equal(6, await RunDoublerAsync(byUrl, 3));
        Assert.Same(shared, ((PostgresStorage)byCode.Services.GetRequiredService<IJobStore>()).DataSource);
        Assert.Same(shared, ((PostgresStorage)byUrl.Services.GetRequiredService<IJobStore>()).DataSource);
        await byCode.StopAsync(Ct);
        await byUrl.StopAsync(Ct);
    }

    [Fact]
    public async Task UnreachableServer_StopsStartup_NamingHostPortAndDatabase_NeverThePassword()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = $"postgres://app:TopSecret1@127.0.0.1:{port}/orders?connect_timeout=5",
        }));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Ct));

        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("database 'orders'", error.Message);
        Assert.Contains("unreachable", error.Message);
        Assert.DoesNotContain("TopSecret1", error.ToString());
    }

    [Fact]
    public async Task WrongCredentials_StopStartup_NamingHostPortAndDatabase_NeverThePassword()
    {
        await EnsurePasswordRoleAsync();
        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = Url("typedjobs_password", "WrongSecret2"),
        }));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Ct));

        Assert.Contains($"{Server.Host}:{Server.Port}", error.Message);
        Assert.Contains($"database '{Server.Database}'", error.Message);
        Assert.Contains("refused the credentials", error.Message);
        Assert.DoesNotContain("WrongSecret2", error.ToString());
    }

    [Fact]
    public async Task PasswordFile_AuthenticatesARoleThatNeedsAPassword()
    {
        await EnsurePasswordRoleAsync();
        var passfile = Path.Combine(Path.GetTempPath(), "typedjobs-pgpass-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(passfile, $"{Server.Host}:{Server.Port}:*:typedjobs_password:RightSecret3\n", Ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passfile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["TypedJobs:Storage"] = Url("typedjobs_password", query: "&passfile=" + Uri.EscapeDataString(passfile)),
            }));
            await host.StartAsync(Ct);

            Assert.Equal(10, await RunDoublerAsync(host, 5));
            await host.StopAsync(Ct);
        }
        finally
        {
            File.Delete(passfile);
        }
    }

    [Fact]
    public async Task Tls_VerifyFullWithTheServersCertificate_Connects_Encrypted()
    {
        var ca = Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_POSTGRES_CA");
        Assert.SkipWhen(string.IsNullOrEmpty(ca), "The test server has no TLS certificate (openssl was missing when it started).");
        var application = "tls-" + Guid.NewGuid().ToString("N")[..8];
        using var host = BuildHost(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedJobs:Storage"] = Url(query: $"&sslmode=verify-full&sslrootcert={Uri.EscapeDataString(ca!)}&application_name={application}"),
        }));
        await host.StartAsync(Ct);

        Assert.Equal(2, await RunDoublerAsync(host, 1));
        var encrypted = await PostgresTestServer.ScalarAsync<bool>(
            $"SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = '{application}'");
        Assert.True(encrypted);
        await host.StopAsync(Ct);
    }

    private static async Task EnsurePasswordRoleAsync() => await PostgresTestServer.ExecuteAsync("""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'typedjobs_password') THEN
                CREATE ROLE typedjobs_password LOGIN PASSWORD 'RightSecret3';
            END IF;
        END $$;
        GRANT CREATE ON DATABASE postgres TO typedjobs_password;
        """);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
internal sealed partial class PostgresTestJson : System.Text.Json.Serialization.JsonSerializerContext;
