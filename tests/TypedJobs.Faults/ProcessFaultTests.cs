using System.Reflection;
using TypedJobs.Storage;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Sqlite;

namespace TypedJobs.Faults;

/// <summary>
/// Scenarios with real worker processes (tests/TypedJobs.Faults.Worker) on one store: several processes sharing the
/// work, a worker killed with SIGKILL while its handlers run, and one killed between its handlers finishing and their
/// outcomes being written. Other stores derive from this class with their own URL.
/// </summary>
public abstract class ProcessFaultTests : IDisposable
{
    protected static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    // Generous: a loaded machine (other test projects run beside these) slows every process; a real hang still fails.
    protected static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);

    private static readonly string WorkerDll = typeof(ProcessFaultTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "WorkerDll").Value!;

    protected ProcessFaultTests()
    {
        Directory.CreateDirectory(Folder);
    }

    protected string Folder { get; } = Path.Combine(Path.GetTempPath(), "typedjobs-faults-" + Guid.NewGuid().ToString("N"));

    /// <summary>The store's name in the report.</summary>
    protected abstract string StoreName { get; }

    /// <summary>The URL of a fresh, empty store for this test (a hot-path timeout short enough for the lease).</summary>
    protected abstract string StoreUrl { get; }

    /// <summary>
    /// The workers' lease in the shared scenarios (2 s). A network store whose calls need a longer hot-path timeout on a
    /// busy machine takes a longer lease (a lease must outlast a heartbeat plus two hot-path timeouts).
    /// </summary>
    protected virtual int LeaseMilliseconds => 2000;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual void Dispose()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    protected string File(string name) => Path.Combine(Folder, name);

    protected WorkerProcess Worker(params string[] arguments) => WorkerProcess.Start(WorkerDll, ["--storage", StoreUrl, .. arguments]);

    /// <summary>Opens the store the workers use, to read final states.</summary>
    protected virtual object OpenStore() => StorageProviders.Open(StoreUrl, extra: [new SqliteStorageProvider()]);

    [Fact]
    public async Task SeveralWorkerProcesses_RunEveryJobExactlyOnce()
    {
        var jobs = 3000 * FaultReport.Scale;
        using var producer = Worker("--log", File("p.log"), "--enqueue", $"{jobs}", "--ack", File("ack.log"), "--concurrency", "8");
        using var a = Worker("--log", File("a.log"), "--expect", $"{jobs}", "--concurrency", "8");
        using var b = Worker("--log", File("b.log"), "--expect", $"{jobs}", "--concurrency", "8");
        await Task.WhenAll(producer.WaitReadyAsync(StartTimeout), a.WaitReadyAsync(StartTimeout), b.WaitReadyAsync(StartTimeout));
        await producer.WaitForLineAsync("enqueued", RunTimeout);

        Assert.Equal(0, await a.WaitForExitAsync(RunTimeout));
        Assert.Equal(0, await b.WaitForExitAsync(RunTimeout));
        producer.Dispose();

        var acknowledged = Logs.Ids(File("ack.log"));
        var runsA = Logs.Runs(File("a.log"));
        var runsB = Logs.Runs(File("b.log"));
        var check = await CheckAsync(acknowledged, acknowledged, [.. Logs.Runs(File("p.log")), .. runsA, .. runsB]);
        FaultReport.Record("three worker processes, no faults", StoreName, "every job runs exactly once", jobs, 0, check);
        Assert.Equal(jobs, acknowledged.Count);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicates);
        Assert.NotEmpty(runsA);
        Assert.NotEmpty(runsB);
    }

    [Fact]
    public async Task WorkerKilledWhileHandlersRun_LosesNothingAcknowledged()
    {
        var kills = FaultReport.Scale;
        var jobs = 1500 * kills;
        var ranBefore = new List<JobId>();
        var acknowledged = new List<JobId>();
        for (var round = 0; round < kills; round++)
        {
            using var victim = Worker("--log", File($"victim{round}.log"), "--enqueue", "1500", "--ack", File($"ack{round}.log"),
                "--job-ms", "20", "--concurrency", "4", "--lease-ms", $"{LeaseMilliseconds}", "--rescue-ms", "300");
            await victim.WaitReadyAsync(StartTimeout);
            await Logs.UntilAsync(() => Logs.Runs(File($"victim{round}.log")).Count >= 50 && Logs.Ids(File($"ack{round}.log")).Count >= 300, victim, RunTimeout);
            await victim.KillAsync();
            ranBefore.AddRange(Logs.Runs(File($"victim{round}.log")));
            acknowledged.AddRange(Logs.Ids(File($"ack{round}.log")));
        }

        using (var survivor = Worker("--log", File("survivor.log"), "--drain", "--concurrency", "8", "--lease-ms", $"{LeaseMilliseconds}", "--rescue-ms", "300"))
        {
            Assert.Equal(0, await survivor.WaitForExitAsync(RunTimeout));
        }

        var check = await CheckAsync(acknowledged, acknowledged, [.. ranBefore, .. Logs.Runs(File("survivor.log"))]);
        FaultReport.Record("SIGKILL during handlers", StoreName, "nothing acknowledged lost; duplicates ≤ 2 × concurrency per kill", acknowledged.Count, kills, check);
        Assert.True(acknowledged.Count > 0 && acknowledged.Count <= jobs);
        Assert.Equal(0, check.Lost);
        Assert.True(check.Duplicates <= 8 * kills, check.ToString());
    }

    [Fact]
    public async Task WorkerKilledBetweenHandlersAndTheirAcknowledgement_ReRunsThoseJobs_AndLosesNothing()
    {
        const int jobs = 400;
        // Every completion write waits 1.5 s: a kill lands while finished attempts wait to be recorded.
        using (var victim = Worker("--log", File("victim.log"), "--enqueue", $"{jobs}", "--ack", File("ack.log"), "--concurrency", "4",
                   "--lease-ms", $"{LeaseMilliseconds}", "--rescue-ms", "300", "--fault", "JobsCompleteAsync:delay=1500"))
        {
            await victim.WaitReadyAsync(StartTimeout);
            await Logs.UntilAsync(() => Logs.Runs(File("victim.log")).Count >= 20 && Logs.Ids(File("ack.log")).Count >= jobs, victim, RunTimeout);
            await victim.KillAsync();
        }

        var acknowledged = Logs.Ids(File("ack.log"));
        var ranBefore = Logs.Runs(File("victim.log"));
        using (var survivor = Worker("--log", File("survivor.log"), "--drain", "--concurrency", "8", "--lease-ms", $"{LeaseMilliseconds}", "--rescue-ms", "300"))
        {
            Assert.Equal(0, await survivor.WaitForExitAsync(RunTimeout));
        }

        var check = await CheckAsync(acknowledged, acknowledged, [.. ranBefore, .. Logs.Runs(File("survivor.log"))]);
        FaultReport.Record("SIGKILL between handler and acknowledgement", StoreName, "nothing lost; unacknowledged runs re-run (at least once)", jobs, 1, check);
        Assert.Equal(0, check.Lost);
        Assert.True(check.Duplicates >= 1, "No finished attempt was waiting for its write at the kill: the scenario did not happen.");
        Assert.True(check.Duplicates <= 8, check.ToString());
    }

    protected async Task<FaultCheck> CheckAsync(IReadOnlyCollection<JobId> acknowledged, IReadOnlyCollection<JobId> attempted, IReadOnlyList<JobId> runs)
    {
        var store = OpenStore();
        try
        {
            await ((IStorageRole)store).InitializeAsync(Ct);
            var admin = (IJobAdminStore)store;
            var states = new Dictionary<JobId, JobState>();
            foreach (var id in acknowledged)
            {
                if ((await admin.JobsGetAsync(new JobsGetParams(id), Ct)).Job is { } job)
                {
                    states[id] = job.State;
                }
            }

            return Checker.Check(acknowledged, attempted, runs, states);
        }
        finally
        {
            switch (store)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}

/// <summary>The process scenarios on one SQLite file.</summary>
public sealed class SqliteProcessFaultTests : ProcessFaultTests
{
    protected override string StoreName => "SQLite";

    protected override string StoreUrl => $"sqlite://{Path.Combine(Folder, "jobs.db")}?busy_timeout=300";

    public override void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        base.Dispose();
    }
}

/// <summary>Reading the logs worker processes append to.</summary>
public static class Logs
{
    /// <summary>The job ids of a runs log ("id attempt pid" per line).</summary>
    public static List<JobId> Runs(string path) =>
        Lines(path).Select(static line => JobId.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)])).ToList();

    /// <summary>The job ids of an acknowledgement log (one id per line).</summary>
    public static List<JobId> Ids(string path) => Lines(path).Select(JobId.Parse).ToList();

    /// <summary>The complete lines of a file another process appends to (a torn last line is ignored).</summary>
    public static List<string> Lines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    public static async Task UntilAsync(Func<bool> condition, WorkerProcess process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for worker {process.Id}. Output:\n{process.Output}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
