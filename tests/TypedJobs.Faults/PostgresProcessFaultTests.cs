using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Npgsql;
using TypedJobs.Storage;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Postgres;

namespace TypedJobs.Faults;

/// <summary>
/// The process scenarios on PostgreSQL (a fresh schema per test on the server eng/servers/postgres.sh starts), and the
/// server's own faults: ten thousand jobs on three workers, an immediate restart of the server (on a cluster of the
/// scenario's own, so no other test sees it) and connections terminated while workers run.
/// </summary>
public sealed class PostgresProcessFaultTests : ProcessFaultTests
{
    private readonly string schema = "f_" + Guid.NewGuid().ToString("N")[..20];
    private PrivateCluster? cluster;

    protected override string StoreName => "PostgreSQL";

    // A network round trip on a loaded machine needs more than SQLite's 300 ms: a 2 s hot path, so an 8 s lease.
    protected override string StoreUrl => Url(cluster?.Server ?? SharedServer, "&hot_path_timeout=2000");

    protected override int LeaseMilliseconds => 8000;

    private static string SharedServer
    {
        get
        {
            var builder = new NpgsqlConnectionStringBuilder(TestServers.Require("TYPEDJOBS_TEST_POSTGRES", "PostgreSQL"));
            return $"{builder.Host}:{builder.Port}";
        }
    }

    // No TLS (the handshake costs CPU this machine lacks under load; TLS has its own test) and a patient connect timeout.
    private string Url(string server, string extra = "") =>
        $"postgres://postgres@{server}/postgres?schema={schema}&sslmode=disable&connect_timeout=60{extra}";

    // The test's own store (seeding, final states) is not a worker: it may wait as long as a loaded machine needs.
    protected override object OpenStore() =>
        StorageProviders.Open(Url(cluster?.Server ?? SharedServer, "&hot_path_timeout=120000"), extra: [new PostgresStorageProvider()]);

    public override void Dispose()
    {
        if (cluster is not null)
        {
            cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        else if (Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_POSTGRES") is { Length: > 0 } connection)
        {
            using var dataSource = NpgsqlDataSource.Create(connection);
            using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            drop.ExecuteNonQuery();
        }

        base.Dispose();
    }

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

    [Fact]
    public async Task ThreeWorkerProcesses_TenThousandJobs_RunExactlyOnce()
    {
        var jobs = 10_000 * FaultReport.Scale;
        var workers = new[] { "a", "b", "c" }.Select(n => Worker("--log", File(n + ".log"), "--expect", $"{jobs}", "--concurrency", "16")).ToList();
        try
        {
            await Task.WhenAll(workers.Select(w => w.WaitReadyAsync(StartTimeout)));
            var ids = await EnqueueAsync(jobs);
            foreach (var worker in workers)
            {
                Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));
            }

            var runs = new[] { "a", "b", "c" }.Select(n => Logs.Runs(File(n + ".log"))).ToList();
            var check = await CheckAsync(ids, ids, [.. runs.SelectMany(r => r)]);
            FaultReport.Record("three worker processes, long run", StoreName, "every job runs exactly once", jobs, 0, check);
            Assert.Equal(0, check.Lost);
            Assert.Equal(0, check.Duplicates);
            Assert.All(runs, Assert.NotEmpty);
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task ServerRestartedImmediately_WorkersReconnect_NothingAcknowledgedIsLost()
    {
        const int Concurrency = 8;
        var jobs = 3000 * FaultReport.Scale;
        cluster = await PrivateCluster.StartAsync();
        // Longer leases than elsewhere: a crash and recovery takes seconds, and the hot path gets 2 s of them.
        var workers = new[] { "a", "b", "c" }.Select(n => Worker("--log", File(n + ".log"), "--expect", $"{jobs}", "--job-ms", "2",
            "--concurrency", $"{Concurrency}", "--lease-ms", "8000", "--rescue-ms", "500")).ToList();
        try
        {
            await Task.WhenAll(workers.Select(w => w.WaitReadyAsync(StartTimeout)));
            var ids = await EnqueueAsync(jobs);
            await Logs.UntilAsync(() => new[] { "a", "b", "c" }.Sum(n => Logs.Runs(File(n + ".log")).Count) >= jobs / 5, workers[0], RunTimeout);

            await cluster.RestartImmediatelyAsync();
            foreach (var worker in workers)
            {
                Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));
            }

            var check = await CheckAsync(ids, ids, [.. new[] { "a", "b", "c" }.SelectMany(n => Logs.Runs(File(n + ".log")))]);
            FaultReport.Record("pg_ctl restart -m immediate mid-run", StoreName,
                "nothing acknowledged lost; duplicates ≤ 2 × concurrency per worker (in flight and unwritten)", jobs, 1, check);
            Assert.Equal(0, check.Lost);
            Assert.True(check.Duplicates <= 3 * 2 * Concurrency, check.ToString());
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task ConnectionsTerminatedWhileWorkersRun_EveryJobSucceeds_WithBoundedDuplicates()
    {
        const int Concurrency = 8;
        var jobs = 2000 * FaultReport.Scale;
        var workers = new[] { "a", "b", "c" }.Select(n => Worker("--log", File(n + ".log"), "--expect", $"{jobs}", "--job-ms", "2",
            "--concurrency", $"{Concurrency}", "--lease-ms", "8000", "--rescue-ms", "300")).ToList();
        try
        {
            await Task.WhenAll(workers.Select(w => w.WaitReadyAsync(StartTimeout)));
            var ids = await EnqueueAsync(jobs);

            // Twice a second for five seconds, terminate every backend of this schema's workers: claims, completions,
            // heartbeats and LISTEN connections alike (the workers' backends are the ones not our own, on the test database
            // while only this test's workers run against its schema).
            var terminations = 0;
            var exited = Task.WhenAll(workers.Select(w => w.WaitForExitAsync(RunTimeout)));
            await using (var admin = NpgsqlDataSource.Create(TestServers.Require("TYPEDJOBS_TEST_POSTGRES", "PostgreSQL")))
            {
                for (var round = 0; round < 10 && !exited.IsCompleted; round++)
                {
                    await using var command = admin.CreateCommand("""
                        SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND strpos(query, @schema) > 0
                        """);
                    command.Parameters.AddWithValue("schema", schema);
                    terminations += (int)(long)(await command.ExecuteScalarAsync(Ct))!;
                    await Task.WhenAny(exited, Task.Delay(500, Ct));
                }
            }

            Assert.All(await exited, code => Assert.Equal(0, code));
            var check = await CheckAsync(ids, ids, [.. new[] { "a", "b", "c" }.SelectMany(n => Logs.Runs(File(n + ".log")))]);
            FaultReport.Record("connections terminated while workers run", StoreName,
                "nothing lost; duplicates ≤ 2 × concurrency per terminated connection", jobs, terminations, check);
            Assert.True(terminations > 0, "no connection was terminated");
            Assert.Equal(0, check.Lost);
            Assert.True(check.Duplicates <= terminations * 2 * Concurrency, check.ToString());
        }
        finally
        {
            workers.ForEach(w => w.Dispose());
        }
    }

    /// <summary>A PostgreSQL cluster of one scenario alone (started by eng/servers/postgres.sh), so restarting it disturbs no other test.</summary>
    private sealed class PrivateCluster : IAsyncDisposable
    {
        private static readonly string Script = typeof(PrivateCluster).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(static a => a.Key == "PostgresServerScript").Value!;

        private readonly string directory;

        private PrivateCluster(string directory, int port)
        {
            this.directory = directory;
            Server = $"127.0.0.1:{port}";
        }

        public string Server { get; }

        public static async Task<PrivateCluster> StartAsync()
        {
            _ = SharedServer; // the same rule as the shared server: skip on a developer's machine without one, fail under CI=true
            var dir = Path.Combine(Path.GetTempPath(), "typedjobs-pg-private-" + Guid.NewGuid().ToString("N")[..8]);
            var (code, output) = await RunAsync("start", dir);
            Assert.True(code == 0, $"The private PostgreSQL cluster did not start:\n{output}");
            return new PrivateCluster(dir, int.Parse(output.Trim().Split('\n')[^1], CultureInfo.InvariantCulture));
        }

        public async Task RestartImmediatelyAsync()
        {
            var (code, output) = await RunAsync("restart", directory);
            Assert.True(code == 0, $"pg_ctl restart -m immediate failed:\n{output}");
        }

        public async ValueTask DisposeAsync() => await RunAsync("stop", directory);

        private static async Task<(int Code, string Output)> RunAsync(string verb, string dir)
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
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
