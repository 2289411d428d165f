using System.Globalization;
using System.Reflection;
using StackExchange.Redis;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Redis.Internal;

namespace TypedJobs.Storage.Redis.Tests;

/// <summary>
/// Faults with real processes, checked like a queue checker: worker processes enqueue (recording every acknowledged id)
/// and run jobs (recording every run), something breaks — the worker is killed with SIGKILL, redis-server is killed with
/// SIGKILL and restarted on its append-only file, the worker's connections are killed with CLIENT KILL — and a worker
/// drains the queue. Then no acknowledged job may be lost (each one succeeded and ran), and a job may run twice only when
/// an attempt was lost and rescued (its attempt count says so). Bounded in time; never timing-based.
/// A cluster failover is not covered: the test cluster has no replicas to fail over to.
/// </summary>
public sealed class RedisFaultTests : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);
    private readonly string directory = Path.Combine(Path.GetTempPath(), "typedjobs-redis-faults-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string prefix = "tjf:" + Guid.NewGuid().ToString("N")[..12] + ":";

    public RedisFaultTests()
    {
        Directory.CreateDirectory(directory);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// <c>TYPEDJOBS_FAULTS_SCALE</c> (default 1) multiplies the jobs, as in the fault harness; <c>eng/faults.sh</c> sets it
    /// for its longer run.
    /// </summary>
    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("TYPEDJOBS_FAULTS_SCALE"), NumberStyles.None, CultureInfo.InvariantCulture,
        out var s) && s > 0 ? s : 1;

    private string File(string name) => Path.Combine(directory, name);

    public async ValueTask DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_REDIS") is { Length: > 0 } endpoint)
        {
            await SharedConnections.DeleteKeysAsync(await SharedConnections.GetAsync(endpoint), "{" + prefix + "*");
        }

        Directory.Delete(directory, recursive: true);
    }

    private static string WorkerDll { get; } = typeof(RedisFaultTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "WorkerDll").Value!;

    private WorkerProcess StartWorker(string endpoint, string log, params string[] more) =>
        WorkerProcess.Start(WorkerDll, [
            "--redis", endpoint, "--prefix", prefix, "--log", File(log), "--lease-ms", "3000", "--rescue-ms", "300", "--timeout-ms", "500",
            .. more,
        ]);

    [Fact]
    public async Task KilledWorker_EveryAcknowledgedJobStillSucceeds()
    {
        var endpoint = TestServers.Require("TYPEDJOBS_TEST_REDIS", "Redis");
        using (var victim = StartWorker(endpoint, "a.log", "--enqueue", (1500 * Scale).ToString(CultureInfo.InvariantCulture), "--ack", File("ack.log"), "--job-ms", "20", "--concurrency", "4"))
        {
            await victim.WaitReadyAsync(StartTimeout);
            await EventuallyAsync(() => Runs("a.log").Count >= 50 && ReadLines(File("ack.log")).Count >= 300, victim);
            await victim.KillAsync();
        }

        using (var survivor = StartWorker(endpoint, "b.log", "--drain", "--concurrency", "8"))
        {
            Assert.Equal(0, await survivor.WaitForExitAsync(RunTimeout));
        }

        var report = await CheckAsync(endpoint, "a.log", "b.log");
        Assert.True(report.Rescued > 0, "No job was rescued: the kill did not interrupt running work.");
        Record("SIGKILL during handlers", "nothing acknowledged lost; a job runs again only in a new attempt", report, kills: 1);
    }

    [Fact]
    public async Task RedisKilledAndRestarted_WithAppendFsyncAlways_LosesNoAcknowledgedJob()
    {
        await using var server = await RedisServerProcess.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        using var worker = StartWorker(server.Endpoint, "a.log", "--enqueue", (2000 * Scale).ToString(CultureInfo.InvariantCulture), "--ack", File("ack.log"), "--job-ms", "5", "--drain");
        await worker.WaitReadyAsync(StartTimeout);
        await EventuallyAsync(() => Runs("a.log").Count >= 100 && ReadLines(File("ack.log")).Count >= 500, worker);

        await server.KillAsync();
        // The enqueues may all be acknowledged before the crash (they are fast); the runs are not: 2,000 jobs of 5 ms
        // each are far from done after 100. Work done after the restart is what shows the crash interrupted the run.
        var runsBeforeCrash = Runs("a.log").Count;
        await server.RestartAsync();

        Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));
        var report = await CheckAsync(server.Endpoint, "a.log");
        Assert.True(Runs("a.log").Count > runsBeforeCrash, "The worker ran nothing after the restart: the crash did not interrupt the run.");
        Record("redis-server SIGKILL and restart (appendfsync always)", "nothing acknowledged lost; a job runs again only in a new attempt", report, kills: 1);
    }

    [Fact]
    public async Task ClientKill_OfTheWorkersConnections_DuringClaimsAndCompletions_LosesNothing()
    {
        var endpoint = TestServers.Require("TYPEDJOBS_TEST_REDIS", "Redis");
        var name = "tjf-" + Guid.NewGuid().ToString("N")[..12];
        await using var admin = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true");
        var server = admin.GetServer(endpoint);
        using var worker = StartWorker(endpoint, "a.log", "--enqueue", (2000 * Scale).ToString(CultureInfo.InvariantCulture), "--ack", File("ack.log"), "--job-ms", "2", "--drain",
            "--client-name", name);
        await worker.WaitReadyAsync(StartTimeout);

        var kills = 0;
        for (var round = 1; round <= 5; round++)
        {
            // Kill while the worker is busy: after each further 150 runs, every connection it has.
            var target = round * 150;
            await EventuallyAsync(() => Runs("a.log").Count >= target, worker);
            foreach (var client in await server.ClientListAsync())
            {
                if (client.Name == name)
                {
                    await server.ExecuteAsync("CLIENT", ["KILL", "ID", client.Id]);
                    kills++;
                }
            }
        }

        Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));
        Assert.True(kills >= 2, $"Only {kills} connections were killed: the worker finished before the faults.");
        var report = await CheckAsync(endpoint, "a.log");
        Record("connections killed (CLIENT KILL) while workers run", "nothing lost; a job runs again only in a new attempt", report, kills);
    }

    /// <summary>
    /// Appends the scenario's row to the fault report (<c>TYPEDJOBS_FAULTS_REPORT</c>, the file the fault harness writes
    /// and <c>eng/faults.sh</c> turns into docs/reliability.md). Lost is always 0 here: the checker fails the test otherwise.
    /// </summary>
    private static void Record(string scenario, string guarantee, (int Acknowledged, int Rescued, int Duplicates) report, int kills)
    {
        var row = string.Create(CultureInfo.InvariantCulture,
            $"| {scenario} | Redis | {guarantee} | {report.Acknowledged} | {kills} | 0 | {report.Duplicates} |");
        TestContext.Current.SendDiagnosticMessage(row);
        if (Environment.GetEnvironmentVariable("TYPEDJOBS_FAULTS_REPORT") is { Length: > 0 } path)
        {
            System.IO.File.AppendAllText(path, row + "\n");
        }
    }

    /// <summary>
    /// The checker: every acknowledged job succeeded and ran; a job that ran twice had an attempt rescued or retried.
    /// Returns the acknowledged jobs, those that needed more than one attempt, and the runs beyond each job's first.
    /// </summary>
    private async Task<(int Acknowledged, int Rescued, int Duplicates)> CheckAsync(string endpoint, params string[] logs)
    {
        var acknowledged = ReadLines(File("ack.log")).Select(JobId.Parse).ToList();
        var runs = logs.SelectMany(Runs).GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.ToList());
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(endpoint);
        await using var store = new RedisStorage(new RedisStorageOptions { KeyPrefix = prefix }, new RedisConnection(multiplexer, -1, false));
        var lost = new List<string>();
        var duplicated = new List<string>();
        var rescued = 0;
        foreach (var id in acknowledged)
        {
            var job = (await store.JobsGetAsync(new JobsGetParams(id), Ct)).Job;
            if (job is not { State: JobState.Succeeded } || !runs.TryGetValue(id, out var ran))
            {
                lost.Add($"{id}: {job?.State.ToString() ?? "missing"}, {(runs.ContainsKey(id) ? "ran" : "never ran")}");
                continue;
            }

            rescued += job.Attempt > 1 ? 1 : 0;
            if (ran.Count > 1 && ran.Select(r => r.Attempt).Distinct().Count() < ran.Count)
            {
                // Two runs of one attempt: only a new claim (a new attempt) may run a job again.
                duplicated.Add($"{id}: attempts {string.Join(",", ran.Select(r => r.Attempt))}");
            }
        }

        Assert.True(acknowledged.Count > 0, "Nothing was acknowledged.");
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged jobs were lost: {string.Join("; ", lost.Take(10))}");
        Assert.True(duplicated.Count == 0, $"{duplicated.Count} jobs ran twice in one attempt: {string.Join("; ", duplicated.Take(10))}");
        var queues = (await store.QueuesListAsync(new QueuesListParams(), Ct)).Queues;
        Assert.Equal(queues.Sum(q => q.Counts.Values.Sum()), queues.Sum(q => q.Counts[JobState.Succeeded]));
        return (acknowledged.Count, rescued, acknowledged.Sum(id => runs.TryGetValue(id, out var ran) ? ran.Count - 1 : 0));
    }

    private List<(JobId Id, int Attempt)> Runs(string log) => ReadLines(File(log)).Select(line =>
    {
        var parts = line.Split(' ');
        return (JobId.Parse(parts[0]), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }).ToList();

    /// <summary>The complete lines of a file another process appends to (a torn last line is ignored).</summary>
    private static List<string> ReadLines(string path)
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
