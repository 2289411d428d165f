using MySqlConnector;
using NATS.Client.Core;
using NATS.Client.JetStream;
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

/// <summary>A fresh database on the MariaDB server ./test.sh starts (TYPEDJOBS_TEST_MYSQL), dropped afterwards.</summary>
public sealed class MySqlStore : ITestStore
{
    private readonly string connectionString;

    public MySqlStore()
    {
        connectionString = TestServers.Require("TYPEDJOBS_TEST_MYSQL", "MariaDB");
        var settings = new MySqlConnectionStringBuilder(connectionString);
        Database = "cli_" + Guid.NewGuid().ToString("N")[..20];
        Execute($"CREATE DATABASE `{Database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        Url = $"mysql://{settings.UserID}:{Uri.EscapeDataString(settings.Password)}@{settings.Server}:{settings.Port}/{Database}";
        Directory = System.IO.Directory.CreateTempSubdirectory("typedjobs-cli-mysql-").FullName;
    }

    public string Database { get; }

    public string Url { get; }

    public string Directory { get; }

    public ValueTask DisposeAsync()
    {
        MySqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS `{Database}`");
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    private void Execute(string sql)
    {
        using var connection = new MySqlConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// The NATS store holds no jobs, so a NATS test store is what an application with NATS would configure: a SQLite file
/// for the jobs role and a fresh bucket prefix on the NATS server ./test.sh starts (TYPEDJOBS_TEST_NATS) for results,
/// events and schedules, given per role the way a host reads them (TypedJobs__Storage__Jobs and so on). Its buckets and
/// stream are deleted afterwards.
/// </summary>
public sealed class NatsStore : ITestStore
{
    private readonly string server;

    public NatsStore()
    {
        server = TestServers.Require("TYPEDJOBS_TEST_NATS", "NATS");
        Prefix = "cli" + Guid.NewGuid().ToString("N")[..12];
        NatsUrl = $"{server}?bucket_prefix={Prefix}";
        Directory = System.IO.Directory.CreateTempSubdirectory("typedjobs-cli-nats-").FullName;
        Url = "sqlite:" + Path.Combine(Directory, "jobs.db");
    }

    public string Prefix { get; }

    /// <summary>The jobs role's URL (a SQLite file).</summary>
    public string Url { get; }

    /// <summary>The NATS URL of the other roles.</summary>
    public string NatsUrl { get; }

    public string Directory { get; }

    /// <summary>The configuration a host of this store reads: jobs on SQLite, results, events and schedules on NATS.</summary>
    public Dictionary<string, string> Variables => new(StringComparer.Ordinal)
    {
        ["TypedJobs__Storage__Jobs"] = Url,
        ["TypedJobs__Storage__Results"] = NatsUrl,
        ["TypedJobs__Storage__Events"] = NatsUrl,
        ["TypedJobs__Storage__Schedules"] = NatsUrl,
    };

    public async ValueTask DisposeAsync()
    {
        await using (var connection = new NatsConnection(new NatsOpts { Url = server }))
        {
            var jetStream = new NatsJSContext(connection);
            foreach (var stream in new[] { $"KV_{Prefix}_results", $"KV_{Prefix}_schedules", $"{Prefix}_events" })
            {
                try
                {
                    await jetStream.DeleteStreamAsync(stream);
                }
                catch (NatsJSApiException ex) when (ex.Error.Code == 404)
                {
                    // Never created.
                }
            }
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a pool being torn down: the temp directory is cleaned by the system.
        }
    }
}
