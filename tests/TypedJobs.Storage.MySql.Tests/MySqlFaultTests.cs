using System.Diagnostics;
using MySqlConnector;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.MySql.Internal;
using System.Reflection;

namespace TypedJobs.Storage.MySql.Tests;

/// <summary>
/// Faults with real processes, checked like a queue checker: every acknowledged enqueue must finish as Succeeded and
/// must have run (nothing lost), and runs beyond one per job (duplicates) must stay within the documented bound — the
/// jobs a worker held when the fault struck, whose leases had to expire before another attempt. Each scenario is bounded
/// in time. The server restart runs on a MariaDB instance of its own, so it never disturbs other tests.
/// </summary>
public sealed class MySqlFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(150);
    private const int Concurrency = 8;
    private readonly string directory = Directory.CreateTempSubdirectory("typedjobs-mysql-faults-").FullName;
    private readonly List<string> databases = [];
    private string? ownServer;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        MySqlConnection.ClearAllPools();
        foreach (var database in databases)
        {
            await MySqlTestServer.DropDatabaseAsync(database);
        }

        if (ownServer is not null)
        {
            await RunScriptAsync("stop", ownServer);
        }

        Directory.Delete(directory, recursive: true);
    }

    private static readonly string WorkerDll = typeof(MySqlFaultTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "WorkerDll").Value!;

    private static WorkerProcess Worker(params string[] arguments) => WorkerProcess.Start(WorkerDll, arguments);

    private string File(string name) => Path.Combine(directory, name);

    private async Task<string> DatabaseAsync()
    {
        var name = await MySqlTestServer.CreateDatabaseAsync("fault");
        databases.Add(name);
        return MySqlTestServer.For(name);
    }

    [Fact]
    public async Task SeveralProcessesStartingAtOnce_MigrateOnce()
    {
        var cs = await DatabaseAsync();
        var processes = Enumerable.Range(0, 6).Select(_ => Worker("--cs", cs, "--migrate-only")).ToArray();
        try
        {
            foreach (var process in processes)
            {
                Assert.Equal(0, await process.WaitForExitAsync(RunTimeout));
                Assert.Contains("migrated", process.Output);
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }

        Assert.Equal((long)MySqlSql.BuiltInSchemaVersion, Convert.ToInt64(await ScalarAsync(cs, "SELECT COUNT(*) FROM typedjobs_migrations")));
    }

    [Fact]
    public async Task WorkerKilledWithSigkill_NothingAcknowledgedIsLost_DuplicatesWithinTheJobsItHeld()
    {
        var cs = await DatabaseAsync();
        using (var victim = Worker("--cs", cs, "--log", File("a.log"), "--enqueue", "1500", "--ack", File("ack.log"),
                   "--job-ms", "20", "--concurrency", $"{Concurrency}", "--lease-ms", "3000", "--rescue-ms", "300"))
        {
            await victim.WaitReadyAsync(StartTimeout);
            await EventuallyAsync(() => Runs(File("a.log")).Count >= 50 && Lines(File("ack.log")).Count >= 300, victim);
            await victim.KillAsync();
        }

        using (var survivor = Worker("--cs", cs, "--log", File("b.log"), "--drain",
                   "--concurrency", $"{Concurrency}", "--lease-ms", "3000", "--rescue-ms", "300"))
        {
            Assert.Equal(0, await survivor.WaitForExitAsync(RunTimeout));
        }

        var check = await CheckAsync(cs, File("ack.log"), File("a.log"), File("b.log"));
        Assert.Equal(0, check.Lost);
        // The jobs the victim held (its concurrency) plus outcomes it had not written yet (one completion batch) run again.
        Assert.InRange(check.Duplicates, 0, Concurrency * 2);
        Assert.True(check.Rescued > 0, "No job was rescued: the kill did not interrupt running work.");
    }

    [Fact]
    public async Task ConnectionsKilledDuringClaimsAndCompletions_NothingAcknowledgedIsLost_DuplicatesWithinTheJobsInHand()
    {
        var cs = await DatabaseAsync();
        var database = new MySqlConnectionStringBuilder(cs).Database;
        using var worker = Worker("--cs", cs, "--log", File("a.log"), "--enqueue", "800", "--ack", File("ack.log"), "--drain",
            "--job-ms", "2", "--concurrency", $"{Concurrency}", "--lease-ms", "10000", "--rescue-ms", "500");
        await worker.WaitReadyAsync(StartTimeout);

        // Kill the worker's sessions on its database with KILL <id> (whatever they are doing: claiming, completing,
        // extending leases, idle in the pool) until the worker drained the queue and exited, for at most 45 seconds.
        var kills = 0;
        var exited = worker.WaitForExitAsync(RunTimeout);
        var stopKilling = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        await using (var admin = new MySqlConnection(MySqlTestServer.ConnectionString))
        {
            await admin.OpenAsync(Ct);
            while (!exited.IsCompleted && DateTime.UtcNow < stopKilling)
            {
                var victims = new List<long>();
                await using (var find = admin.CreateCommand())
                {
                    find.CommandText = "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID() ORDER BY RAND() LIMIT 2";
                    find.Parameters.AddWithValue("@db", database);
                    await using var reader = await find.ExecuteReaderAsync(Ct);
                    while (await reader.ReadAsync(Ct))
                    {
                        victims.Add(Convert.ToInt64(reader.GetValue(0)));
                    }
                }

                foreach (var id in victims)
                {
                    try
                    {
                        await using var kill = admin.CreateCommand();
                        kill.CommandText = $"KILL {id}";
                        await kill.ExecuteNonQueryAsync(Ct);
                        kills++;
                    }
                    catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchThread)
                    {
                        // The session ended first.
                    }
                }

                await Task.WhenAny(exited, Task.Delay(100, Ct));
            }
        }

        Assert.Equal(0, await exited);
        var check = await CheckAsync(cs, File("ack.log"), File("a.log"));
        Assert.True(kills >= 5, $"Only {kills} sessions were killed. Output:\n{worker.Output}");
        Assert.Equal(0, check.Lost);
        // A killed claim or completion rolls back and is retried; a job runs again only if its lease expired while its
        // heartbeats or its completion kept failing, which can touch at most the jobs in hand.
        Assert.InRange(check.Duplicates, 0, Concurrency);
    }

    [Fact]
    public async Task ServerRestartedMidRun_NothingAcknowledgedIsLost_DuplicatesWithinTheJobsInFlight()
    {
        var script = TestServers.Require("TYPEDJOBS_TEST_MYSQL_SCRIPT", "The MariaDB server script");
        ownServer = Path.Combine(directory, "server");
        var port = (await RunScriptAsync("start", ownServer)).Trim();
        var cs = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1", Port = uint.Parse(port, System.Globalization.CultureInfo.InvariantCulture), UserID = "typedjobs",
            Password = "typedjobs", Database = "typedjobs", ConnectionTimeout = 5,
        }.ConnectionString;
        Assert.NotNull(script);

        using var worker = Worker("--cs", cs, "--log", File("a.log"), "--enqueue", "2000", "--ack", File("ack.log"), "--drain",
            "--job-ms", "5", "--concurrency", $"{Concurrency}", "--lease-ms", "4000", "--rescue-ms", "500");
        await worker.WaitReadyAsync(StartTimeout);
        await EventuallyAsync(() => Runs(File("a.log")).Count >= 200 && Lines(File("ack.log")).Count >= 500, worker);

        await RunScriptAsync("restart", ownServer);
        var runsBefore = Runs(File("a.log")).Count;
        await EventuallyAsync(() => Runs(File("a.log")).Count > runsBefore + 100, worker);
        Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));

        var check = await CheckAsync(cs, File("ack.log"), File("a.log"));
        Assert.Equal(0, check.Lost);
        // A crash can lose the completions of the jobs in hand and the batch being written: at most a worker's concurrency
        // plus one completion batch run again.
        Assert.InRange(check.Duplicates, 0, Concurrency * 2);
        Assert.Contains("failed", worker.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ClaimWhoseSessionIsKilledBetweenItsReadAndItsUpdate_ClaimsNothing_AndTheJobsStayClaimable()
    {
        var cs = await DatabaseAsync();
        await using var store = new MySqlStorage(new MySqlStorageOptions { ConnectionString = cs });
        await store.JobsInsertAsync(new JobsInsertParams(Enumerable.Range(0, 5)
            .Select(_ => new JobInsert { Id = JobId.New(), TaskName = "t", Queue = "default", Payload = [1] }).ToArray()), Ct);
        var killed = 0;
        store.BetweenClaimReadAndUpdate = async thread =>
        {
            await using var admin = new MySqlConnection(MySqlTestServer.ConnectionString);
            await admin.OpenAsync(Ct);
            await using var kill = admin.CreateCommand();
            kill.CommandText = $"KILL {thread}";
            await kill.ExecuteNonQueryAsync(Ct);
            killed++;
        };
        var claim = new JobsClaimParams { WorkerId = "w", Queues = [new QueueClaim("default", 10)], Max = 10, LeaseDuration = TimeSpan.FromMinutes(1) };

        await Assert.ThrowsAnyAsync<Exception>(async () => await store.JobsClaimAsync(claim, Ct));
        var afterKill = await store.JobsListAsync(new JobsListParams(), Ct);
        store.BetweenClaimReadAndUpdate = null;
        var claimed = await store.JobsClaimAsync(claim, Ct);

        Assert.Equal(1, killed);
        Assert.All(afterKill.Jobs, j => Assert.Equal((JobState.Ready, 0, (Guid?)null), (j.State, j.Attempt, j.LeaseToken)));
        Assert.Equal(5, claimed.Jobs.Count);
        Assert.All(claimed.Jobs, j => Assert.Equal(1, j.Attempt));
    }

    private sealed record Check(int Acknowledged, int Lost, int Duplicates, int Rescued);

    /// <summary>
    /// Counts lost jobs (acknowledged, but not Succeeded or never run) and duplicated runs (runs beyond one per job,
    /// across every log), and how many acknowledged jobs needed more than one attempt.
    /// </summary>
    private static async Task<Check> CheckAsync(string cs, string ackLog, params string[] runLogs)
    {
        var acknowledged = Lines(ackLog).Select(JobId.Parse).ToList();
        var runs = runLogs.SelectMany(Runs).ToList();
        var ran = runs.ToHashSet();
        await using var store = new MySqlStorage(new MySqlStorageOptions { ConnectionString = cs });
        var lost = 0;
        var rescued = 0;
        foreach (var id in acknowledged)
        {
            var job = (await store.JobsGetAsync(new JobsGetParams(id), Ct)).Job;
            if (job is not { State: JobState.Succeeded } || !ran.Contains(id))
            {
                lost++;
                continue;
            }

            rescued += job.Attempt > 1 ? 1 : 0;
        }

        var duplicates = runs.Count - ran.Count;
        Assert.True(acknowledged.Count > 0, "Nothing was acknowledged.");
        return new Check(acknowledged.Count, lost, duplicates, rescued);
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var connection = new MySqlConnection(cs);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }

    /// <summary>Runs eng/servers/mysql.sh with a verb and a directory; returns what it printed.</summary>
    private static async Task<string> RunScriptAsync(string verb, string dir)
    {
        var script = TestServers.Require("TYPEDJOBS_TEST_MYSQL_SCRIPT", "The MariaDB server script");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add(dir);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"mysql.sh {verb} failed: {await error}");
        return await output;
    }

    private static List<JobId> Runs(string path) =>
        Lines(path).Select(line => JobId.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)])).ToList();

    /// <summary>The complete lines of a file another process appends to (a torn last line is ignored).</summary>
    private static List<string> Lines(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static async Task EventuallyAsync(Func<bool> condition, WorkerProcess process)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for worker {process.Id}. Output:\n{process.Output}");
            await Task.Delay(20, Ct);
        }
    }
}
