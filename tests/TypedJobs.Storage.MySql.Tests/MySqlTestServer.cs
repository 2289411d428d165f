using MySqlConnector;
using TypedJobs.Storage.Conformance;

namespace TypedJobs.Storage.MySql.Tests;

/// <summary>
/// The MariaDB server that <c>eng/servers/mysql.sh</c> starts for the tests (<c>TYPEDJOBS_TEST_MYSQL</c>). Each test gets
/// a database of its own, dropped when it ends.
/// </summary>
internal static class MySqlTestServer
{
    /// <summary>The server's connection string (a user that may create databases); a skip, or a failure under CI, without it.</summary>
    public static string ConnectionString => TestServers.Require("TYPEDJOBS_TEST_MYSQL", "MariaDB");

    /// <summary>The connection string for <paramref name="database"/>, with optional changes.</summary>
    public static string For(string database, Action<MySqlConnectionStringBuilder>? change = null)
    {
        var builder = new MySqlConnectionStringBuilder(ConnectionString) { Database = database };
        change?.Invoke(builder);
        return builder.ConnectionString;
    }

    /// <summary>Creates a fresh, uniquely named database.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix = "tj")
    {
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..16];
        await ExecuteAsync($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        return name;
    }

    public static async Task DropDatabaseAsync(string name) => await ExecuteAsync($"DROP DATABASE IF EXISTS `{name}`");

    /// <summary>Runs a statement as the test user on the server's default database.</summary>
    public static async Task ExecuteAsync(string sql, string? database = null)
    {
        await using var connection = new MySqlConnection(database is null ? ConnectionString : For(database));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a query and returns its first value.</summary>
    public static async Task<object?> ScalarAsync(string sql, string? database = null)
    {
        await using var connection = new MySqlConnection(database is null ? ConnectionString : For(database));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
