using System.Globalization;
using System.Text;
using TypedJobs.Storage.Sqlite.Internal;

namespace TypedJobs.Storage.Sqlite.Tests;

/// <summary>
/// Several real worker processes (the real engine with hand-registered tasks) on one database file, and a worker
/// killed with SIGKILL in the middle of its work.
/// </summary>
public sealed class ProcessTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    private readonly TempDirectory directory = TempDirectory.Create();

    private string DatabasePath => Path.Combine(directory.Path, "jobs.db");

    private string File(string name) => Path.Combine(directory.Path, name);

    public void Dispose() => directory.Dispose();

    [Fact]
    public async Task TwoWorkerProcesses_OnOneFile_RunEveryJobExactlyOnce()
    {
        const int jobs = 3000;
        using var a = WorkerProcess.Start("--db", DatabasePath, "--log", File("a.log"), "--expect", $"{jobs}");
        using var b = WorkerProcess.Start("--db", DatabasePath, "--log", File("b.log"), "--expect", $"{jobs}");
        await Task.WhenAll(a.WaitReadyAsync(StartTimeout), b.WaitReadyAsync(StartTimeout));

        await using var store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = DatabasePath });
        var ids = new List<JobId>();
        for (var start = 0; start < jobs; start += 250)
        {
            var batch = Enumerable.Range(start, 250).Select(Record).ToArray();
            await store.JobsInsertAsync(new JobsInsertParams(batch), TestContext.Current.CancellationToken);
            ids.AddRange(batch.Select(j => j.Id));
        }

        Assert.Equal(0, await a.WaitForExitAsync(RunTimeout));
        Assert.Equal(0, await b.WaitForExitAsync(RunTimeout));

        var runsA = ReadRuns(File("a.log"));
        var runsB = ReadRuns(File("b.log"));
        var all = runsA.Concat(runsB).ToList();
        Assert.Equal(ids.Count, all.Count);
        Assert.Equal(ids.OrderBy(i => i), all.OrderBy(i => i));
        Assert.NotEmpty(runsA);
        Assert.NotEmpty(runsB);
        var queue = Assert.Single((await store.QueuesListAsync(new QueuesListParams(), TestContext.Current.CancellationToken)).Queues);
        Assert.Equal(jobs, queue.Counts[JobState.Succeeded]);
        Assert.Equal(jobs, queue.Counts.Values.Sum());
    }

    [Fact]
    public async Task KilledWorker_EveryAcknowledgedEnqueueStillCompletes()
    {
        const string lease = "1500";
        const string rescue = "300";
        using (var victim = WorkerProcess.Start("--db", DatabasePath, "--log", File("a.log"), "--enqueue", "1500", "--ack", File("ack.log"),
                   "--job-ms", "20", "--concurrency", "4", "--lease-ms", lease, "--rescue-ms", rescue))
        {
            await victim.WaitReadyAsync(StartTimeout);
            await EventuallyAsync(() => ReadRuns(File("a.log")).Count >= 50 && ReadLines(File("ack.log")).Count >= 300, victim);
            await victim.KillAsync();
        }

        var acknowledged = ReadLines(File("ack.log")).Select(JobId.Parse).ToList();
        var ranBeforeKill = ReadRuns(File("a.log"));
        using (var survivor = WorkerProcess.Start("--db", DatabasePath, "--log", File("b.log"), "--drain",
                   "--concurrency", "8", "--lease-ms", lease, "--rescue-ms", rescue))
        {
            Assert.Equal(0, await survivor.WaitForExitAsync(RunTimeout));
        }

        await using var store = new SqliteStorage(new SqliteStorageOptions { ConnectionString = DatabasePath });
        var ran = ranBeforeKill.Concat(ReadRuns(File("b.log"))).ToHashSet();
        var rescued = 0;
        foreach (var id in acknowledged)
        {
            var job = (await store.JobsGetAsync(new JobsGetParams(id), TestContext.Current.CancellationToken)).Job;
            Assert.NotNull(job);
            Assert.Equal(JobState.Succeeded, job.State);
            Assert.Contains(id, ran);
            rescued += job.Attempt > 1 ? 1 : 0;
        }

        var queue = Assert.Single((await store.QueuesListAsync(new QueuesListParams(), TestContext.Current.CancellationToken)).Queues);
        Assert.Equal(queue.Counts.Values.Sum(), queue.Counts[JobState.Succeeded]);
        Assert.True(queue.Counts[JobState.Succeeded] >= acknowledged.Count);
        // The victim was killed with jobs in hand: their leases expired and the survivor's rescuer returned them.
        Assert.True(rescued > 0 || acknowledged.Count == 0, "No job was rescued: the kill did not interrupt running work.");
    }

    private static JobInsert Record(int n) => new()
    {
        Id = JobId.New(),
        TaskName = "record",
        Queue = "default",
        Payload = Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture)),
        MaxRetries = 100,
    };

    private static List<JobId> ReadRuns(string path) =>
        ReadLines(path).Select(line => JobId.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)])).ToList();

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
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
