using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using TypedJobs.Events;
using TypedJobs.Storage;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Sqlite;

namespace TypedJobs.Faults;

/// <summary>
/// Jobs on SQLite with their results and events on NATS JetStream (a worker process placing the roles by URL), and
/// nats-server killed (SIGKILL) and restarted mid-run on a server of the scenario's own: no completion may be lost,
/// every result must be readable afterwards, and the events of the outage are stored late or reported in the worker's
/// log. The longest a completion waited is measured and reported, not asserted.
/// </summary>
public sealed class NatsProcessFaultTests : IAsyncDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);

    private static readonly string WorkerDll = typeof(ProcessFaultTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "WorkerDll").Value!;

    private readonly string folder = Path.Combine(Path.GetTempPath(), "typedjobs-faults-nats-" + Guid.NewGuid().ToString("N"));
    private string? serverDirectory;
    private string? script;

    public NatsProcessFaultTests()
    {
        Directory.CreateDirectory(folder);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (script is not null && serverDirectory is not null)
        {
            await RunScriptAsync("stop");
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private string File(string name) => Path.Combine(folder, name);

    [Fact]
    public async Task NatsRestartedMidRun_WhileJobsCompleteOnSqlite_LosesNoCompletionResultOrUnreportedEvent()
    {
        script = TestServers.Require("TYPEDJOBS_TEST_NATS_SCRIPT", "nats-server (eng/servers/nats.sh)");
        serverDirectory = Path.Combine(folder, "nats");
        var port = (await RunScriptAsync("start")).Trim();
        // Requests fail fast during the outage (timeout=1000); the connect timeout stays generous, since a connection
        // attempt to a stopped server is refused at once and only a loaded machine makes a live one slow.
        var nats = $"nats://127.0.0.1:{port}?bucket_prefix=faults&timeout=1000&connect_timeout=15000";
        var jobs = 1500 * FaultReport.Scale;
        var jobsDb = Path.Combine(folder, "jobs.db");

        using var worker = WorkerProcess.Start(WorkerDll, "--storage", $"sqlite://{jobsDb}?busy_timeout=300", "--results", nats, "--events", nats,
            "--log", File("runs.log"), "--enqueue", $"{jobs}", "--ack", File("ack.log"), "--expect", $"{jobs}", "--job-ms", "10",
            "--concurrency", "8");
        await worker.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await Logs.UntilAsync(() => Logs.Runs(File("runs.log")).Count >= jobs / 4, worker, RunTimeout);

        var outage = Stopwatch.StartNew();
        await RunScriptAsync("restart");
        outage.Stop();
        Assert.Equal(0, await worker.WaitForExitAsync(RunTimeout));

        var acknowledged = Logs.Ids(File("ack.log"));
        var runs = Logs.Runs(File("runs.log"));
        using var sqlite = (IDisposable)StorageProviders.Open($"sqlite://{jobsDb}", extra: [new SqliteStorageProvider()]);
        var admin = (IJobAdminStore)sqlite;
        await ((IStorageRole)sqlite).InitializeAsync(Ct);
        await using var store = (IAsyncDisposable)StorageProviders.Open(nats, StorageRoles.Results | StorageRoles.Events);
        var results = (IResultStore)store;
        var events = (IEventStore)store;
        await results.InitializeAsync(Ct);

        var states = new Dictionary<JobId, JobState>();
        var missingResults = 0;
        var withoutEvent = 0;
        var longest = TimeSpan.Zero;
        foreach (var id in acknowledged)
        {
            var job = (await admin.JobsGetAsync(new JobsGetParams(id), Ct)).Job;
            if (job is null)
            {
                continue;
            }

            states[id] = job.State;
            if (job is { StartedAt: { } started, FinishedAt: { } finished } && finished - started > longest)
            {
                longest = finished - started;
            }

            if (job.SucceededLeaseToken is not { } token || (await results.ResultsGetAsync(new ResultsGetParams(id, token), Ct)).Result is null)
            {
                missingResults++;
            }

            if (!(await events.EventsListAsync(new EventsListParams(id), Ct)).Events.Any(static e => e.Kind == JobEventKind.Succeeded))
            {
                withoutEvent++;
            }
        }

        var check = Checker.Check(acknowledged, acknowledged, runs, states);
        var reported = worker.Output.Split('\n').Count(static line => line.Contains("Event observer", StringComparison.Ordinal) && line.Contains("failed", StringComparison.Ordinal));
        TestContext.Current.SendDiagnosticMessage(string.Create(CultureInfo.InvariantCulture,
            $"NATS restart took {outage.Elapsed.TotalSeconds:F1} s; longest claim-to-completion {longest.TotalSeconds:F1} s; results missing {missingResults}; jobs without a stored Succeeded event {withoutEvent}; event-store failures logged {reported}"));
        FaultReport.Record("nats-server SIGKILLed and restarted, results and events on NATS", "SQLite + NATS",
            "no completion or result lost; outage events stored late or reported", jobs, 1, check);

        Assert.Equal(jobs, acknowledged.Count);
        Assert.Equal(0, check.Lost);
        Assert.Equal(0, check.Duplicates);
        Assert.Equal(0, missingResults);
        // An event batch that failed during the outage is reported in the worker's log, never dropped silently.
        Assert.True(withoutEvent == 0 || reported > 0, $"{withoutEvent} jobs have no Succeeded event and no event-store failure was logged.");
    }

    private async Task<string> RunScriptAsync(string verb)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script!);
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add(serverDirectory!);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"nats.sh {verb} failed: {await error}");
        return await output;
    }
}
