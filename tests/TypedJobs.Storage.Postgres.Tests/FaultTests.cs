using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Npgsql;
using TypedJobs.Storage.Postgres.Internal;

namespace TypedJobs.Storage.Postgres.Tests;

/// <summary>
/// Real worker processes on one database, with real faults, and a checker in the style of Jepsen's queue checker: every
/// run of a job is logged by the process that ran it, and the checker counts lost jobs (acknowledged but never
/// succeeded), unexpected ones and duplicates. Duplicates are allowed only where a fault interrupted work in flight, and
/// only up to the documented bound: the jobs a worker held (its concurrency) plus the completions it had not written
/// yet, per interrupted worker.
/// </summary>
public sealed class FaultTests : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(240);
    private readonly string directory = Directory.CreateTempSubdirectory("typedjobs-pg-faults-").FullName;
    private readonly string schema = PostgresTestServer.NewSchemaName();
    private readonly List<WorkerProcess> workers = [];
    private PrivateCluster? cluster;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string File(string name) => Path.Combine(directory, name);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        workers.ForEach(w => w.Dispose());
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
        else
        {
            await PostgresTestServer.DropSchemaAsync(schema);
        }

        Directory.Delete(directory, recursive: true);
    }

    private WorkerProcess Worker(string connection, string log, params string[] more)
    {
        var worker = WorkerProcess.Start(["--connection", connection, "--schema", schema, "--log", File(log), .. more]);
        workers.Add(worker);
        return worker;
    }

    private static JobInsert Record(int n) => new()
    {
        Id = JobId.New(),
        TaskName = "record",
        Queue = "default",
        Payload = Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture)),
        MaxRetries = 100,
    };

    private async Task<List<JobId>> EnqueueAsync(string connection, int count)
    {
        await using var store = new PostgresStorage(new PostgresStorageOptions { ConnectionString = connection, Schema = schema });
        var ids = new List<JobId>(count);
        for (var start = 0; start < count; start += 1000)
        {
            var batch = Enumerable.Range(start, Math.Min(1000, count - start)).Select(Record).ToArray();
            await store.JobsInsertAsync(new JobsInsertParams(batch), Ct);
            ids.AddRange(batch.Select(j => j.Id));
        }

        return ids;
    }

    [Fact]
    public async Task ThreeWorkers_TenThousandJobs_RunExactlyOnce()
    {
        const int Jobs = 10_000;
        var connection = PostgresTestServer.ConnectionString;
        var started = new[] { "a", "b", "c" }.Select(n => Worker(connection, n + ".log", "--expect", $"{Jobs}", "--concurrency", "16")).ToList();
        await Task.WhenAll(started.Select(w => w.WaitReadyAsync(StartTimeout)));

        var ids = await EnqueueAsync(connection, Jobs);
        foreach (var worker in started)
        {
            Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));
        }

        var check = Check(ids, "a.log", "b.log", "c.log");
        Assert.Equal((0, 0, 0), (check.Lost, check.Unexpected, check.Duplicated));
        Assert.All(new[] { "a.log", "b.log", "c.log" }, log => Assert.NotEmpty(Runs(log)));
        await AssertAllSucceededAsync(connection, ids);
    }

    [Fact]
    public async Task KilledWorkers_LoseNothingAcknowledged_AndDuplicateOnlyWhatTheyHeld()
    {
        const int Concurrency = 4;
        var connection = PostgresTestServer.ConnectionString;
        string[] Victim(string name) => ["--enqueue", "1500", "--ack", File(name + ".ack"), "--job-ms", "20", "--concurrency", $"{Concurrency}",
            "--lease-ms", "5000", "--rescue-ms", "300"];
        var a = Worker(connection, "a.log", Victim("a"));
        var b = Worker(connection, "b.log", Victim("b"));
        await Task.WhenAll(a.WaitReadyAsync(StartTimeout), b.WaitReadyAsync(StartTimeout));
        await EventuallyAsync(() => Runs("a.log").Count + Runs("b.log").Count >= 200 && Lines(File("a.ack")).Count >= 300, a);
        await a.KillAsync();
        await b.KillAsync();

        var acknowledged = Lines(File("a.ack")).Concat(Lines(File("b.ack"))).Select(JobId.Parse).ToList();
        var survivor = Worker(connection, "c.log", "--drain", "--concurrency", "16", "--lease-ms", "5000", "--rescue-ms", "300");
        Assert.Equal(0, await survivor.WaitForExitAsync(RunTimeout));

        var check = Check(acknowledged, "a.log", "b.log", "c.log");
        Assert.Equal(0, check.Lost);
        Assert.True(check.Duplicated <= 2 * Concurrency, $"{check.Duplicated} duplicates; two killed workers held at most {2 * Concurrency} jobs");
        await AssertAllSucceededAsync(connection, acknowledged);
        // The victims were killed with jobs in hand: their leases expired and the survivor's rescuer returned them.
        var rescued = await PostgresTestServer.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".typedjobs_jobs WHERE attempt > 1");
        Assert.True(rescued > 0, "No job was rescued: the kills did not interrupt running work.");
    }

    [Fact]
    public async Task ServerRestartedImmediately_WorkersReconnect_NothingAcknowledgedIsLost()
    {
        const int Jobs = 3000;
        const int Concurrency = 8;
        cluster = await PrivateCluster.StartAsync();
        var connection = cluster.ConnectionString;
        var started = new[] { "a", "b", "c" }
            .Select(n => Worker(connection, n + ".log", "--expect", $"{Jobs}", "--job-ms", "2", "--concurrency", $"{Concurrency}",
                "--lease-ms", "8000", "--rescue-ms", "500"))
            .ToList();
        await Task.WhenAll(started.Select(w => w.WaitReadyAsync(StartTimeout)));
        var ids = await EnqueueAsync(connection, Jobs);
        await EventuallyAsync(() => new[] { "a.log", "b.log", "c.log" }.Sum(l => Runs(l).Count) >= Jobs / 5, started[0]);

        await cluster.RestartImmediatelyAsync();
        foreach (var worker in started)
        {
            Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));
        }

        var check = Check(ids, "a.log", "b.log", "c.log");
        Assert.Equal((0, 0), (check.Lost, check.Unexpected));
        // A crash loses what was in flight: jobs running or finished but not yet recorded, at most the concurrency plus
        // one completion batch of the same size per worker.
        Assert.True(check.Duplicated <= 3 * 2 * Concurrency, $"{check.Duplicated} duplicates after the restart");
        await AssertAllSucceededAsync(connection, ids);
    }

    [Fact]
    public async Task ConnectionsTerminatedWhileWorkersRun_EveryJobSucceeds_WithBoundedDuplicates()
    {
        const int Jobs = 2000;
        const int Concurrency = 8;
        var application = "tj-reset-" + Guid.NewGuid().ToString("N")[..8];
        var connection = new NpgsqlConnectionStringBuilder(PostgresTestServer.ConnectionString) { ApplicationName = application }.ConnectionString;
        var started = new[] { "a", "b", "c" }
            .Select(n => Worker(connection, n + ".log", "--expect", $"{Jobs}", "--job-ms", "2", "--concurrency", $"{Concurrency}",
                "--lease-ms", "8000", "--rescue-ms", "500"))
            .ToList();
        await Task.WhenAll(started.Select(w => w.WaitReadyAsync(StartTimeout)));
        var ids = await EnqueueAsync(PostgresTestServer.ConnectionString, Jobs);

        // Terminate every backend of the workers (claims, completions, heartbeats and listeners alike) twice a second, ten
        // times, while they run; then they must finish on their own.
        var terminations = 0;
        await using (var admin = PostgresTestServer.AdminDataSource())
        {
            var exited = Task.WhenAll(started.Select(w => w.WaitForExitAsync(RunTimeout)));
            for (var round = 0; round < 10 && !exited.IsCompleted; round++)
            {
                await using var command = admin.CreateCommand(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @app AND pid <> pg_backend_pid()");
                command.Parameters.AddWithValue("app", application);
                terminations += (int)(long)(await command.ExecuteScalarAsync(Ct))!;
                await Task.WhenAny(exited, Task.Delay(500, Ct));
            }

            Assert.All(await exited, code => Assert.Equal(0, code));
        }

        var check = Check(ids, "a.log", "b.log", "c.log");
        Assert.True(terminations > 0, "no connection was terminated");
        Assert.Equal((0, 0), (check.Lost, check.Unexpected));
        Assert.True(check.Duplicated <= terminations * 2 * Concurrency, $"{check.Duplicated} duplicates after {terminations} terminated connections");
        await AssertAllSucceededAsync(PostgresTestServer.ConnectionString, ids);
    }

    private async Task AssertAllSucceededAsync(string connection, IReadOnlyCollection<JobId> ids)
    {
        await using var store = new PostgresStorage(new PostgresStorageOptions { ConnectionString = connection, Schema = schema, WakeUp = PostgresWakeUp.Poll });
        var queue = Assert.Single((await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues);
        Assert.Equal(queue.Counts.Values.Sum(), queue.Counts[JobState.Succeeded]);
        Assert.True(queue.Counts[JobState.Succeeded] >= ids.Count);
    }

    /// <summary>Lost: expected jobs that never ran. Unexpected: runs of jobs nobody enqueued. Duplicated: extra runs.</summary>
    private Checked Check(IReadOnlyCollection<JobId> expected, params string[] logs)
    {
        var runs = logs.SelectMany(Runs).ToList();
        var counts = runs.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        var wanted = expected.ToHashSet();
        return new Checked(
            Lost: wanted.Count(id => !counts.ContainsKey(id)),
            Unexpected: counts.Keys.Count(id => !wanted.Contains(id)),
            Duplicated: counts.Values.Sum(c => c - 1));
    }

    private readonly record struct Checked(int Lost, int Unexpected, int Duplicated);

    private List<JobId> Runs(string log) =>
        Lines(File(log)).Select(line => JobId.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)])).ToList();

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

    /// <summary>A PostgreSQL cluster of this test alone (started by eng/servers/postgres.sh), so restarting it disturbs no other test.</summary>
    private sealed class PrivateCluster : IAsyncDisposable
    {
        private static readonly string Script = Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_POSTGRES_SCRIPT") is { Length: > 0 } script
            ? script
            : typeof(PrivateCluster).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ServerScript").Value!;

        private readonly string directory;

        private PrivateCluster(string directory, int port)
        {
            this.directory = directory;
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
        }

        public string ConnectionString { get; }

        public static async Task<PrivateCluster> StartAsync()
        {
            _ = PostgresTestServer.ConnectionString; // the same rule as the shared server: skip, or fail under CI=true
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
            var stdout = process.StandardOutput.ReadToEndAsync(Ct);
            var stderr = process.StandardError.ReadToEndAsync(Ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(180));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
