using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>
/// The hot-path statements read the jobs table through an index: SQLite's query plan for each one searches the table
/// (by primary key, id or a partial index) and never scans it whole, so their cost does not grow with the table.
/// </summary>
public sealed partial class QueryPlanTests : IAsyncDisposable
{
    private readonly TempDirectory directory = TempDirectory.Create();
    private SqliteStorage? store;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (store is not null)
        {
            await store.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    [Theory]
    [InlineData(nameof(SqliteSql.ClaimCandidates))]
    [InlineData(nameof(SqliteSql.ClaimJobs))]
    [InlineData(nameof(SqliteSql.NextDueAt))]
    [InlineData(nameof(SqliteSql.CompleteJob))]
    [InlineData(nameof(SqliteSql.CompleteJobs))]
    [InlineData(nameof(SqliteSql.ExtendLease))]
    [InlineData(nameof(SqliteSql.ReportProgress))]
    [InlineData(nameof(SqliteSql.RescueJobs))]
    [InlineData(nameof(SqliteSql.SelectIdByQueueUniqueKey))]
    public async Task Hot_path_statement_searches_the_jobs_table_through_an_index(string statement)
    {
        var path = Path.Combine(directory.Path, "jobs.db");
        store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = path });
        await store.InitializeAsync(Ct);
        var sql = (string)typeof(SqliteSql).GetProperty(statement)!.GetValue(store.Sql)!;

        var plan = Plan(path, sql);

        const string table = SqliteStorageOptions.DefaultTablePrefix + "jobs";
        Assert.DoesNotContain(plan, step => step.StartsWith($"SCAN {table}", StringComparison.Ordinal));
        Assert.Contains(plan, step => step.StartsWith($"SEARCH {table} USING", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unique_key_lookup_uses_the_index_of_jobs_that_hold_a_key_and_jobs_without_one_have_no_entry()
    {
        var path = Path.Combine(directory.Path, "jobs.db");
        store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = path });
        await store.InitializeAsync(Ct);
        const string index = SqliteStorageOptions.DefaultTablePrefix + "jobs_held_unique_key";

        var plan = Plan(path, store.Sql.SelectIdByQueueUniqueKey);

        Assert.Contains(plan, step => step.Contains($"USING INDEX {index}", StringComparison.Ordinal));
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = @name";
        command.Parameters.AddWithValue("@name", index);
        Assert.EndsWith("WHERE unique_key IS NOT NULL", (string)command.ExecuteScalar()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Next_due_time_reads_the_queue_state_index_and_no_second_due_time_index_is_kept()
    {
        var path = Path.Combine(directory.Path, "jobs.db");
        store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = path });
        await store.InitializeAsync(Ct);
        const string prefix = SqliteStorageOptions.DefaultTablePrefix;

        var plan = Plan(path, store.Sql.NextDueAt);

        // A search on (queue, state) and a due_at range, in index order: no sort step, no scan.
        Assert.Contains(plan, step => step.Contains($"INDEX {prefix}jobs_queue_state (queue=? AND state=? AND due_at>?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = @table ORDER BY name";
        command.Parameters.AddWithValue("@table", prefix + "jobs");
        var indexes = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                indexes.Add(reader.GetString(0));
            }
        }

        Assert.Equal(
            [$"{prefix}jobs_claim", $"{prefix}jobs_finished", $"{prefix}jobs_held_unique_key", $"{prefix}jobs_lease", $"{prefix}jobs_queue_state"],
            indexes.Where(static i => !i.StartsWith("sqlite_autoindex", StringComparison.Ordinal)));
    }

    private static List<string> Plan(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var name in ParameterName().Matches(sql).Select(m => m.Value).Distinct(StringComparer.Ordinal))
        {
            command.Parameters.AddWithValue(name, DBNull.Value);
        }

        var steps = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            steps.Add(reader.GetString(3));
        }

        Assert.NotEmpty(steps);
        return steps;
    }

    [GeneratedRegex(@"@\w+")]
    private static partial Regex ParameterName();
}
