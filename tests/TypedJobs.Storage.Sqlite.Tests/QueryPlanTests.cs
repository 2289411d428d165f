using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using TypedJobs.Storage.Conformance;
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
    [InlineData(nameof(SqliteSql.ClaimTasks))]
    [InlineData(nameof(SqliteSql.ClaimTaskCandidates))]
    [InlineData(nameof(SqliteSql.NextDueAt))]
    [InlineData(nameof(SqliteSql.CompleteJob))]
    [InlineData(nameof(SqliteSql.CompleteJobs))]
    [InlineData(nameof(SqliteSql.ExtendLease))]
    [InlineData(nameof(SqliteSql.ReportProgress))]
    [InlineData(nameof(SqliteSql.RescueJobs))]
    [InlineData(nameof(SqliteSql.SelectIdByQueueUniqueKey))]
    public async Task Hot_path_statement_searches_the_jobs_table_through_an_index(string statement)
    {
        var (path, statements) = await OpenStoreAsync();
        var sql = (string)typeof(SqliteSql).GetProperty(statement)!.GetValue(statements)!;
        // The index a claim with a task at its cap makes on first need; the others must not take it instead of theirs.
        Execute(path, statements.CreateClaimTaskIndex);

        var plan = Plan(path, sql);

        const string table = SqliteStorageOptions.DefaultTablePrefix + "jobs";
        Assert.DoesNotContain(plan, step => step.StartsWith($"SCAN {table}", StringComparison.Ordinal));
        Assert.Contains(plan, step => step.StartsWith($"SEARCH {table} USING", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unique_key_lookup_uses_the_index_of_jobs_that_hold_a_key_and_jobs_without_one_have_no_entry()
    {
        var (path, statements) = await OpenStoreAsync();
        const string index = SqliteStorageOptions.DefaultTablePrefix + "jobs_held_unique_key";

        var plan = Plan(path, statements.SelectIdByQueueUniqueKey);

        Assert.Contains(plan, step => step.Contains($"USING INDEX {index}", StringComparison.Ordinal));
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = @name";
        command.Parameters.AddWithValue("@name", index);
        Assert.EndsWith("WHERE unique_key IS NOT NULL", (string)command.ExecuteScalar()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Next_due_time_seeks_one_claim_index_entry_per_priority_and_no_index_holds_every_job()
    {
        var (path, statements) = await OpenStoreAsync();
        const string prefix = SqliteStorageOptions.DefaultTablePrefix;

        var plan = Plan(path, statements.NextDueAt);

        // Each in-range priority is a search on (queue, state, priority) and a due_at range, read in index order (no
        // sort step), so the statement reads one entry per priority however many jobs wait.
        Assert.Equal(4, plan.Count(step => step.Contains($"USING COVERING INDEX {prefix}jobs_claim (queue=? AND priority=? AND due_at>?)", StringComparison.Ordinal)));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith($"SCAN {prefix}jobs", StringComparison.Ordinal));
        Assert.Equal(
            [$"{prefix}jobs_claim", $"{prefix}jobs_done", $"{prefix}jobs_finished_state", $"{prefix}jobs_held_unique_key", $"{prefix}jobs_lease"],
            Indexes(path, prefix + "jobs"));
    }

    [Fact]
    public async Task Counts_per_queue_and_state_read_the_partial_indexes_only()
    {
        var (path, statements) = await OpenStoreAsync();
        const string prefix = SqliteStorageOptions.DefaultTablePrefix;

        var plan = Plan(path, statements.CountJobs);

        // Waiting and finished jobs are counted from covering indexes (no table row is read), running ones through the
        // lease index; the jobs table itself is never scanned.
        var reads = plan.Where(step => step.Contains($"{prefix}jobs ", StringComparison.Ordinal) || step.EndsWith($"{prefix}jobs", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, reads.Count);
        Assert.Contains(reads, step => step.Contains($"USING COVERING INDEX {prefix}jobs_claim", StringComparison.Ordinal));
        Assert.Contains(reads, step => step.Contains($"USING INDEX {prefix}jobs_lease", StringComparison.Ordinal));
        Assert.Contains(reads, step => step.Contains($"USING COVERING INDEX {prefix}jobs_done", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Claim_with_a_task_at_its_cap_seeks_each_other_task_and_never_reads_the_capped_ones()
    {
        var (path, statements) = await OpenStoreAsync();
        const string prefix = SqliteStorageOptions.DefaultTablePrefix;
        Execute(path, statements.CreateClaimTaskIndex);

        var tasks = Plan(path, statements.ClaimTasks);
        var candidates = Plan(path, statements.ClaimTaskCandidates);

        // The task list is one seek per task (the first one, then the next after each); each task's candidates are one
        // range per priority of (queue, task, priority), read in index order.
        Assert.Equal(2, tasks.Count(step => step.Contains($"USING COVERING INDEX {prefix}jobs_claim_task (queue=?", StringComparison.Ordinal)));
        Assert.Contains(tasks, step => step.Contains($"{prefix}jobs_claim_task (queue=? AND task>?)", StringComparison.Ordinal));
        Assert.Equal(3, candidates.Count(step => step.Contains($"INDEX {prefix}jobs_claim_task (queue=? AND task=? AND priority", StringComparison.Ordinal)));
        Assert.DoesNotContain(tasks.Concat(candidates), step => step.StartsWith($"SCAN {prefix}jobs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(nameof(SqliteSql.BulkRetryCandidates), "jobs_finished_state (state=?)", 1)]
    [InlineData(nameof(SqliteSql.BulkCancelCandidates), "jobs_claim", 1)]
    [InlineData(nameof(SqliteSql.BulkCancelCandidates), "jobs_lease", 1)]
    public async Task Bulk_retry_and_cancel_read_only_the_jobs_in_the_states_they_change(string statement, string index, int reads)
    {
        var (path, statements) = await OpenStoreAsync();
        const string prefix = SqliteStorageOptions.DefaultTablePrefix;
        var sql = (string)typeof(SqliteSql).GetProperty(statement)!.GetValue(statements)!;

        var plan = Plan(path, sql);

        // The jobs a batch retried or cancelled leave these partial indexes, so the next batch does not read them again.
        Assert.Equal(reads, plan.Count(step => step.Contains($"INDEX {prefix}{index}", StringComparison.Ordinal)));
        Assert.DoesNotContain(plan, step => step.Contains($"SCAN {prefix}jobs", StringComparison.Ordinal) && !step.Contains("INDEX", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bulk_delete_goes_on_after_its_cursor_by_sequence()
    {
        var (path, statements) = await OpenStoreAsync();
        const string prefix = SqliteStorageOptions.DefaultTablePrefix;

        var plan = Plan(path, statements.BulkDeleteCandidates);

        // A seek to the cursor in the table's own order: a batch does not read the rows the batches before it passed.
        Assert.Contains(plan, step => step.Contains($"SEARCH {prefix}jobs USING INTEGER PRIMARY KEY (rowid>?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prune_reads_one_range_of_finished_jobs_per_state_and_never_the_other_states()
    {
        var (path, statements) = await OpenStoreAsync();
        const string prefix = SqliteStorageOptions.DefaultTablePrefix;

        var plan = Plan(path, statements.PruneJobs);

        // Each state's arm seeks its own (state, finish time) range, so a prune of succeeded jobs does not walk past the
        // dead ones kept longer; the arms come out in finish-time order and only their merge is sorted.
        var reads = plan.Where(step => step.Contains($"{prefix}jobs ", StringComparison.Ordinal) || step.EndsWith($"{prefix}jobs", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, reads.Count(step => step.Contains($"USING COVERING INDEX {prefix}jobs_finished_state (state=? AND finished_at<?)", StringComparison.Ordinal)));
        Assert.DoesNotContain(reads, step => step.StartsWith($"SCAN {prefix}jobs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prune_of_succeeded_jobs_leaves_older_dead_ones_and_takes_the_oldest_first()
    {
        var (path, _) = await OpenStoreAsync();
        var clock = new FakeClock();
        await using var timed = new SqliteStorage(new SqliteStorageOptions { ConnectionString = path }, clock);
        await timed.InitializeAsync(Ct);
        async Task<JobId[]> FinishAsync(int count, JobState state)
        {
            var jobs = Enumerable.Range(0, count).Select(_ => new JobInsert { Id = JobId.New(), TaskName = "t", Queue = "q", Payload = "{}"u8.ToArray() }).ToArray();
            await timed.JobsInsertAsync(new JobsInsertParams(jobs), Ct);
            var claimed = (await timed.JobsClaimAsync(new JobsClaimParams
            {
                WorkerId = "w", Queues = [new QueueClaim("q", count)], Max = count, LeaseDuration = TimeSpan.FromMinutes(5),
            }, Ct)).Jobs;
            await timed.JobsCompleteAsync(new JobsCompleteParams(claimed.Select(j => new JobCompletion
            {
                Job = j.Ref, LeaseToken = j.LeaseToken!.Value, TargetState = state, Failed = state == JobState.Dead,
            }).ToList()), Ct);
            clock.Advance(TimeSpan.FromMinutes(1));
            return jobs.Select(j => j.Id).ToArray();
        }

        var dead = await FinishAsync(20, JobState.Dead);
        var older = await FinishAsync(5, JobState.Succeeded);
        var newer = await FinishAsync(5, JobState.Succeeded);
        clock.Advance(TimeSpan.FromHours(1));

        var first = await timed.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded, JobState.Cancelled], TimeSpan.FromMinutes(30), 5), Ct);
        foreach (var id in newer)
        {
            Assert.Equal(JobState.Succeeded, (await timed.JobsGetAsync(new JobsGetParams(id), Ct)).Job?.State);
        }

        var second = await timed.JobsPruneAsync(new JobsPruneParams([JobState.Succeeded, JobState.Cancelled], TimeSpan.FromMinutes(30), 100), Ct);

        Assert.Equal(5, first.Deleted);
        Assert.Equal(5, second.Deleted);
        foreach (var id in dead)
        {
            Assert.Equal(JobState.Dead, (await timed.JobsGetAsync(new JobsGetParams(id), Ct)).Job?.State);
        }

        foreach (var id in older.Concat(newer))
        {
            Assert.Null((await timed.JobsGetAsync(new JobsGetParams(id), Ct)).Job);
        }
    }

    /// <summary>Creates the store's database (every migration applied) and returns its path and the store's statements.</summary>
    private async Task<(string Path, SqliteSql Statements)> OpenStoreAsync()
    {
        var path = Path.Combine(directory.Path, "jobs.db");
        store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = path });
        await store.InitializeAsync(Ct);
        return (path, store.Sql);
    }

    /// <summary>The indexes of <paramref name="table"/> in the database at <paramref name="path"/>, by name, without SQLite's own.</summary>
    internal static List<string> Indexes(string path, string table)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = @table ORDER BY name";
        command.Parameters.AddWithValue("@table", table);
        var indexes = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var name = reader.GetString(0);
            if (!name.StartsWith("sqlite_autoindex", StringComparison.Ordinal))
            {
                indexes.Add(name);
            }
        }

        return indexes;
    }

    private static void Execute(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
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
