using Npgsql;
using TypedJobs.Storage.Conformance;

namespace TypedJobs.Storage.Postgres.Tests;

/// <summary>The server ./test.sh starts (eng/servers/postgres.sh): missing is a skip on a developer's machine, a failure under CI=true.</summary>
public static class PostgresTestServer
{
    public const string Variable = "TYPEDJOBS_TEST_POSTGRES";

    /// <summary>The superuser connection string of the test server.</summary>
    public static string ConnectionString => TestServers.Require(Variable, "PostgreSQL");

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchemaName() => "t_" + Guid.NewGuid().ToString("N")[..20];

    public static NpgsqlDataSource AdminDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public static async Task ExecuteAsync(string sql)
    {
        await using var dataSource = AdminDataSource();
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(string sql)
    {
        await using var dataSource = AdminDataSource();
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static async Task DropSchemaAsync(string schema)
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        await using var dataSource = NpgsqlDataSource.Create(value);
        await using var command = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        await command.ExecuteNonQueryAsync();
    }
}
