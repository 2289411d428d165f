using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using MySqlConnector;
using TypedJobs.Storage;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.MySql;

namespace TypedJobs.Faults;

/// <summary>
/// The process scenarios on MariaDB (a fresh database per test on the server eng/servers/mysql.sh starts), and the
/// server's own faults: a crash of the server (SIGKILL of mariadbd) and its restart mid-run, on a server of the
/// scenario's own so no other test sees it, and the workers' sessions killed with <c>KILL &lt;id&gt;</c> while they
/// claim, complete and extend leases. A claim killed between its locking read and its update is a scenario of
/// tests/TypedJobs.Storage.MySql.Tests (it needs a hook inside the store).
/// </summary>
public sealed class MySqlProcessFaultTests : ProcessFaultTests
{
    private const int Concurrency = 8;
    private readonly string database = "faults_" + Guid.NewGuid().ToString("N")[..16];
    private readonly MySqlConnectionStringBuilder server;
    private PrivateServer? ownServer;

    public MySqlProcessFaultTests()
    {
        server = new MySqlConnectionStringBuilder(TestServers.Require("TYPEDJOBS_TEST_MYSQL", "MariaDB"));
        Execute($"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    }

    protected override string StoreName => "MySQL";

    // A network round trip on a loaded machine needs more than SQLite's 300 ms: a 2 s hot path, so an 8 s lease.
    protected override string StoreUrl => Url("hot_path_timeout=2000");

    protected override int LeaseMilliseconds => 8000;

    // The test's own store (seeding, final states) is not a worker: it may wait as long as a loaded machine needs.
    protected override object OpenStore() => StorageProviders.Open(Url("hot_path_timeout=120000"), extra: [new MySqlStorageProvider()]);

    /// <summary>
    /// The store on the shared server's database of this test, or on the scenario's own server once it has one. No TLS: the
    /// handshake costs CPU a loaded machine lacks, and reconnecting is part of every scenario (TLS has its own test).
    /// </summary>
    private string Url(string settings)
    {
        var (host, database) = ownServer is { } own ? ($"127.0.0.1:{own.Port}", "typedjobs") : ($"{server.Server}:{server.Port}", this.database);
        return $"mysql://{Uri.EscapeDataString(server.UserID)}:{Uri.EscapeDataString(server.Password)}@{host}/{database}?ssl_mode=none&connect_timeout=30&{settings}";
    }

    public override void Dispose()
    {
        MySqlConnection.ClearAllPools();
        ownServer?.Dispose();
        Execute($"DROP DATABASE IF EXISTS `{database}`");
        base.Dispose();
    }

    [Fact]
    public async Task ServerCrashedAndRestartedMidRun_WorkersReconnect_NothingAcknowledgedIsLost()
    {
        var jobs = 3000 * FaultReport.Scale;
        ownServer = await PrivateServer.StartAsync();
        // Leases outlast a heartbeat plus two 2-second hot-path calls, and the seconds crash recovery takes.
        var workers = Names.Select(n => Worker("--log", File(n + ".log"), "--expect", $"{jobs}", "--job-ms", "2",
            "--concurrency", $"{Concurrency}", "--lease-ms", $"{LeaseMilliseconds}", "--rescue-ms", "500")).ToList();
        try
        {
            await Task.WhenAll(workers.Select(w => w.WaitReadyAsync(StartTimeout)));
            var ids = await EnqueueAsync(jobs);
            await Logs.UntilAsync(() => Names.Sum(n => Logs.Runs(File(n + ".log")).Count) >= jobs / 5, workers[0], RunTimeout);

            await ownServer.CrashAndRestartAsync();
            foreach (var worker in workers)
            {
                Assert.True(await worker.WaitForExitAsync(RunTimeout) == 0, $"Worker {worker.Id} failed. Output:\n{worker.Output}");
            }

            var check = await CheckAsync(ids, ids, [.. Names.SelectMany(n => Logs.Runs(File(n + ".log")))]);
            FaultReport.Record("mariadbd SIGKILL and restart mid-run", StoreName,
                "nothing acknowledged lost; duplicates ≤ 2 × concurrency per worker (in flight and unwritten)", jobs, 1, check);
            Assert.Equal(0, check.Lost);
            Assert.Equal(0, check.Unexpected);
            Assert.True(check.Duplicates <= Names.Length * 2 * Concurrency, check.ToString());
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task SessionsKilledWhileWorkersRun_EveryJobSucceeds_WithBoundedDuplicates()
    {
        var jobs = 2000 * FaultReport.Scale;
        var workers = Names.Select(n => Worker("--log", File(n + ".log"), "--expect", $"{jobs}", "--job-ms", "2",
            "--concurrency", $"{Concurrency}", "--lease-ms", $"{LeaseMilliseconds}", "--rescue-ms", "300")).ToList();
        try
        {
            await Task.WhenAll(workers.Select(w => w.WaitReadyAsync(StartTimeout)));
            var ids = await EnqueueAsync(jobs);
            MySqlConnection.ClearAllPools();

            // Five times a second for at most 30 seconds, KILL every session on this test's database: the workers' claims,
            // completions, heartbeats and progress checks alike, whatever statement they are in. The killing connection
            // uses the server's default database, so it never kills itself.
            var kills = 0;
            var exited = Task.WhenAll(workers.Select(w => w.WaitForExitAsync(RunTimeout)));
            var stopKilling = Stopwatch.StartNew();
            await using (var admin = new MySqlConnection(server.ConnectionString))
            {
                await admin.OpenAsync(Ct);
                while (!exited.IsCompleted && stopKilling.Elapsed < TimeSpan.FromSeconds(30))
                {
                    var victims = new List<long>();
                    await using (var find = admin.CreateCommand())
                    {
                        find.CommandText = "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()";
                        find.Parameters.AddWithValue("@db", database);
                        await using var reader = await find.ExecuteReaderAsync(Ct);
                        while (await reader.ReadAsync(Ct))
                        {
                            victims.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
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

                    await Task.WhenAny(exited, Task.Delay(200, Ct));
                }
            }

            await exited;
            foreach (var worker in workers)
            {
                Assert.True(await worker.WaitForExitAsync(RunTimeout) == 0, $"Worker {worker.Id} failed. Output:\n{worker.Output}");
            }

            var check = await CheckAsync(ids, ids, [.. Names.SelectMany(n => Logs.Runs(File(n + ".log")))]);
            FaultReport.Record("sessions killed (KILL <id>) while workers run", StoreName,
                "nothing lost; duplicates ≤ 2 × concurrency per killed session", jobs, kills, check);
            Assert.True(kills > 0, "No session was killed.");
            Assert.Equal(0, check.Lost);
            Assert.Equal(0, check.Unexpected);
            Assert.True(check.Duplicates <= kills * 2 * Concurrency, check.ToString());
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    private static readonly string[] Names = ["a", "b", "c"];

    /// <summary>Inserts <paramref name="count"/> "record" jobs through the test's own store, in batches of 1000.</summary>
    private async Task<List<JobId>> EnqueueAsync(int count)
    {
        var store = (IJobStore)OpenStore();
        try
        {
            await store.InitializeAsync(Ct);
            var ids = new List<JobId>(count);
            for (var start = 0; start < count; start += 1000)
            {
                var batch = Enumerable.Range(start, Math.Min(1000, count - start)).Select(n => new JobInsert
                {
                    Id = JobId.New(),
                    TaskName = "record",
                    Queue = "default",
                    Payload = System.Text.Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture)),
                    MaxRetries = 100,
                }).ToArray();
                await store.JobsInsertAsync(new JobsInsertParams(batch), Ct);
                ids.AddRange(batch.Select(j => j.Id));
            }

            return ids;
        }
        finally
        {
            await ((IAsyncDisposable)store).DisposeAsync();
        }
    }

    private void Execute(string sql)
    {
        using var connection = new MySqlConnection(server.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>A MariaDB server of one scenario alone (eng/servers/mysql.sh in a directory of its own), so crashing it disturbs no other test.</summary>
    private sealed class PrivateServer : IDisposable
    {
        private static readonly string Script = typeof(PrivateServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(static a => a.Key == "MySqlServerScript").Value!;

        private readonly string directory;

        private PrivateServer(string directory, int port)
        {
            this.directory = directory;
            Port = port;
        }

        public int Port { get; }

        public static async Task<PrivateServer> StartAsync()
        {
            var dir = Path.Combine(Path.GetTempPath(), "typedjobs-mysql-private-" + Guid.NewGuid().ToString("N")[..8]);
            var (code, output, errors) = await RunAsync("start", dir);
            Assert.True(code == 0, $"The private MariaDB server did not start:\n{output}{errors}");
            return new PrivateServer(dir, int.Parse(output.Trim().Split('\n')[^1], CultureInfo.InvariantCulture));
        }

        /// <summary>SIGKILL of mariadbd (a crash: InnoDB recovers from its log at the next start), then a start on the same port.</summary>
        public async Task CrashAndRestartAsync()
        {
            var (code, output, errors) = await RunAsync("restart", directory);
            Assert.True(code == 0, $"The private MariaDB server did not restart:\n{output}{errors}");
        }

        public void Dispose() => RunAsync("stop", directory).GetAwaiter().GetResult();

        /// <summary>Runs the script with a verb and a directory; its standard output (the port) apart from its messages.</summary>
        private static async Task<(int Code, string Output, string Errors)> RunAsync(string verb, string dir)
        {
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Script);
            start.ArgumentList.Add(verb);
            start.ArgumentList.Add(dir);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
