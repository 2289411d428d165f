using Npgsql;
using StackExchange.Redis;
using TypedJobs.Storage.Conformance;

namespace TypedJobs.Cli.Tests.Support;

/// <summary>A fresh schema in the PostgreSQL database ./test.sh starts (TYPEDJOBS_TEST_POSTGRES), dropped afterwards.</summary>
public sealed class PostgresStore : ITestStore
{
    private readonly string connectionString;

    public PostgresStore()
    {
        connectionString = TestServers.Require("TYPEDJOBS_TEST_POSTGRES", "PostgreSQL");
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        Schema = "cli_" + Guid.NewGuid().ToString("N")[..20];
        Url = $"postgres://{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}?schema={Schema}&sslmode=disable";
        Directory = System.IO.Directory.CreateTempSubdirectory("typedjobs-cli-pg-").FullName;
    }

    public string Schema { get; }

    public string Url { get; }

    public string Directory { get; }

    public async ValueTask DisposeAsync()
    {
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await using var command = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE");
            await command.ExecuteNonQueryAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>A fresh key prefix on the Redis server ./test.sh starts (TYPEDJOBS_TEST_REDIS), its keys deleted afterwards.</summary>
public sealed class RedisStore : ITestStore
{
    private readonly string endpoint;

    public RedisStore()
    {
        endpoint = TestServers.Require("TYPEDJOBS_TEST_REDIS", "Redis");
        Prefix = "cli-" + Guid.NewGuid().ToString("N")[..12] + ":";
        Url = $"redis://{endpoint}?prefix={Prefix}";
        Directory = System.IO.Directory.CreateTempSubdirectory("typedjobs-cli-redis-").FullName;
    }

    public string Prefix { get; }

    public string Url { get; }

    public string Directory { get; }

    public async ValueTask DisposeAsync()
    {
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(endpoint))
        {
            var server = redis.GetServers().Single();
            var database = redis.GetDatabase();
            await foreach (var key in server.KeysAsync(pattern: "*" + Prefix + "*"))
            {
                await database.KeyDeleteAsync(key);
            }
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
