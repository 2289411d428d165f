using System.Text.Json;
using TypedJobs.Cli.Tests.Support;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Tests;

/// <summary>
/// The commands against one real store, through the same command tree the installed tool runs. One subclass per store;
/// each test gets a store of its own (a fresh file, database, schema or key prefix).
/// </summary>
public abstract class CliStoreTests
{
    protected abstract Task<ITestStore> CreateStoreAsync();

    /// <summary>A store with its schema, through the tool itself.</summary>
    protected async Task<ITestStore> MigratedStoreAsync()
    {
        var store = await CreateStoreAsync();
        var migrate = await Cli(store).RunAsync("migrate", "--storage", store.Url);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        return store;
    }

    protected static CliRunner Cli(ITestStore store) => new() { WorkingDirectory = store.Directory };

    /// <summary>
    /// The deploy gate on a fresh store: <c>migrate status --show-sql</c> exits 3 and shows the DDL, <c>migrate</c> applies
    /// it and <c>validate</c> then passes. Returns <c>doctor</c>'s JSON report for the store-specific checks.
    /// </summary>
    protected static async Task<JsonElement> MigrateGateThenDoctorAsync(ITestStore store)
    {
        var cli = Cli(store);
        var gate = await cli.RunAsync("migrate", "status", "--show-sql", "-s", store.Url);
        Assert.True(gate.ExitCode == 3, gate.ToString());
        Assert.Contains("CREATE TABLE", gate.Out, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(0, (await cli.RunAsync("migrate", "-s", store.Url)).ExitCode);
        var passed = await cli.RunAsync("validate", "-s", store.Url);
        Assert.True(passed.ExitCode == 0, passed.ToString());

        return Json(await cli.RunAsync("doctor", "-s", store.Url, "-o", "json"));
    }

    protected static JsonElement Json(CliResult result)
    {
        Assert.True(result.ExitCode is 0 or 3, result.ToString());
        return JsonDocument.Parse(result.Out).RootElement;
    }

    [Fact]
    public async Task JobsList_PrintsATable_PagesWithTheCursor_AndFiltersLikeTheAdminApi()
    {
        await using var store = await MigratedStoreAsync();
        await using (var seed = await Seed.StartAsync(store.Url))
        {
            await seed.Client.EnqueueBatchAsync(Seed.Send, Enumerable.Range(0, 5).Select(i => $$"""{"order":{{i}}}"""), new JobOptions { Queue = "mail" });
            await seed.Client.EnqueueBatchAsync(Seed.Send, ["""{"order":100}""", """{"order":101}"""], new JobOptions { Queue = "billing" });
        }

        var cli = Cli(store);
        var table = await cli.RunAsync("jobs", "list", "--storage", store.Url, "--queue", "mail");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("| ID ", table.Out);
        Assert.Contains("orders.send", table.Out);
        Assert.Equal(5, table.Out.Split('\n').Count(l => l.Contains("| mail ", StringComparison.Ordinal)));
        Assert.DoesNotContain("billing", table.Out);
        Assert.Contains("5 jobs.", table.Out);

        // Paging through JSON: every job once, newest first, stable field names.
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            string[] args = cursor is null
                ? ["jobs", "list", "-s", store.Url, "-o", "json", "--limit", "3"]
                : ["jobs", "list", "-s", store.Url, "-o", "json", "--limit", "3", "--cursor", cursor];
            var page = Json(await cli.RunAsync(args));
            foreach (var job in page.GetProperty("jobs").EnumerateArray())
            {
                seen.Add(job.GetProperty("id").GetString()!);
                Assert.Equal("ready", job.GetProperty("state").GetString());
                Assert.Equal("orders.send", job.GetProperty("task").GetString());
                Assert.True(job.TryGetProperty("createdAt", out _));
                Assert.True(job.TryGetProperty("lastError", out _));
            }

            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(7, seen.Distinct().Count());

        var human = await cli.RunAsync("jobs", "list", "-s", store.Url, "--limit", "3");
        Assert.Contains("next page: --cursor ", human.Out);

        var none = await cli.RunAsync("jobs", "list", "-s", store.Url, "--state", "dead");
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("No jobs match (state=dead)", none.Out);
    }

    [Fact]
    public async Task JobsShow_PrettyPrintsThePayload_TheErrorAndTheEventHistory()
    {
        await using var store = await MigratedStoreAsync();
        // The worker stays registered while the tool runs: it reports the task without sensitive members, so the payload shows.
        await using var seed = await Seed.StartAsync(store.Url, worker: true);
        var id = await seed.Client.EnqueueAsync(Seed.Broken, """{"order":42,"customer":{"email":"ann@example.com"}}""");
        await seed.WaitForStateAsync(id, JobState.Dead);

        var cli = Cli(store);
        var shown = await cli.RunAsync("jobs", "show", id.ToString(), "--storage", store.Url);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("orders.broken", shown.Out);
        Assert.Contains("dead", shown.Out);
        Assert.Contains("  \"order\": 42,", shown.Out);
        Assert.Contains("    \"email\": \"ann@example.com\"", shown.Out);
        Assert.Contains("Last error:", shown.Out);
        Assert.Contains("payment gateway said no", shown.Out);
        Assert.Contains("Events:", shown.Out);
        Assert.Contains("started", shown.Out);

        var json = Json(await cli.RunAsync("jobs", "show", id.ToString(), "--storage", store.Url, "--output", "json"));
        Assert.Equal(42, json.GetProperty("payload").GetProperty("order").GetInt32());
        Assert.Equal("dead", json.GetProperty("job").GetProperty("state").GetString());
        Assert.Contains("payment gateway said no", json.GetProperty("job").GetProperty("lastError").GetString());
        var kinds = json.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Contains("started", kinds);
        Assert.Contains(kinds, k => k is "dead" or "failed");

        var missing = await cli.RunAsync("jobs", "show", JobId.New().ToString(), "--storage", store.Url);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Error);
        Assert.Single(missing.Error.Trim().Split('\n'));

        var malformed = await cli.RunAsync("jobs", "show", "not-an-id", "--storage", store.Url);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("'not-an-id' is not a job id", malformed.Error);
    }

    [Fact]
    public async Task JobsCancelRetryDelete_ById_ChangeTheStore_AndReportWhatTheyCouldNotDo()
    {
        await using var store = await MigratedStoreAsync();
        await using var seed = await Seed.StartAsync(store.Url);
        var later = await seed.Client.EnqueueAsync(Seed.Send, """{"order":1}""", new JobOptions { Delay = TimeSpan.FromHours(1) });
        var other = await seed.Client.EnqueueAsync(Seed.Send, """{"order":2}""", new JobOptions { Delay = TimeSpan.FromHours(1) });
        var cli = Cli(store);

        var cancel = await cli.RunAsync("jobs", "cancel", later.ToString(), other.ToString(), "-s", store.Url);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains($"Cancelled job {later}.", cancel.Out);
        Assert.Equal(JobState.Cancelled, (await seed.Client.GetJobAsync(later))!.State);
        Assert.Equal(JobState.Cancelled, (await seed.Client.GetJobAsync(other))!.State);

        var retry = await cli.RunAsync("jobs", "retry", later.ToString(), "-s", store.Url, "-o", "json");
        var retried = Json(retry);
        Assert.Equal(1, retried.GetProperty("changed").GetInt32());
        Assert.Equal(JobState.Ready, (await seed.Client.GetJobAsync(later))!.State);

        // A ready job cannot be retried: one error line naming why, exit code 1, nothing changed.
        var again = await cli.RunAsync("jobs", "retry", later.ToString(), "-s", store.Url);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("only dead or cancelled jobs can be retried", again.Error);

        var unknown = JobId.New();
        var delete = await cli.RunAsync("jobs", "delete", later.ToString(), unknown.ToString(), "-s", store.Url, "-o", "json");
        Assert.Equal(1, delete.ExitCode);
        var deleted = JsonDocument.Parse(delete.Out).RootElement;
        Assert.Equal(1, deleted.GetProperty("changed").GetInt32());
        Assert.Equal(unknown.ToString(), deleted.GetProperty("notFound")[0].GetString());
        Assert.Contains($"job {unknown} not found", delete.Error);
        Assert.Null(await seed.Client.GetJobAsync(later));
        Assert.NotNull(await seed.Client.GetJobAsync(other));
    }

    [Fact]
    public async Task BulkActions_NeedYesWithoutATerminal_AndChangeEveryMatchingJob()
    {
        await using var store = await MigratedStoreAsync();
        await using var seed = await Seed.StartAsync(store.Url);
        await seed.Client.EnqueueBatchAsync(Seed.Send, Enumerable.Range(0, 25).Select(i => $$"""{"n":{{i}}}"""), new JobOptions { Queue = "bulk" });
        await seed.Client.EnqueueBatchAsync(Seed.Send, ["""{"n":-1}"""], new JobOptions { Queue = "keep" });
        var cli = Cli(store);

        var refused = await cli.RunAsync("jobs", "cancel", "--queue", "bulk", "-s", store.Url);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("pass --yes", refused.Error);
        Assert.Equal(25, await seed.Admin.CountJobsAsync(new JobFilter { Queue = "bulk", State = JobState.Ready }));

        var nothingGiven = await cli.RunAsync("jobs", "delete", "-s", store.Url);
        Assert.Equal(2, nothingGiven.ExitCode);
        Assert.Contains("--all", nothingGiven.Error);

        var cancelled = Json(await cli.RunAsync("jobs", "cancel", "--queue", "bulk", "--yes", "-s", store.Url, "-o", "json"));
        Assert.Equal(25, cancelled.GetProperty("matched").GetInt64());
        Assert.Equal(25, cancelled.GetProperty("changed").GetInt64());
        Assert.Equal(25, await seed.Admin.CountJobsAsync(new JobFilter { Queue = "bulk", State = JobState.Cancelled }));
        Assert.Equal(1, await seed.Admin.CountJobsAsync(new JobFilter { Queue = "keep", State = JobState.Ready }));

        var retried = await cli.RunAsync("jobs", "retry", "--state", "cancelled", "-y", "-s", store.Url);
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Contains("Retried 25 job(s) matching state=cancelled.", retried.Out);
        Assert.Equal(26, await seed.Admin.CountJobsAsync(new JobFilter { State = JobState.Ready }));

        var deleted = await cli.RunAsync("jobs", "delete", "--all", "--yes", "-s", store.Url);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains("Deleted 26 job(s) matching all jobs.", deleted.Out);
        Assert.Equal(0, await seed.Admin.CountJobsAsync(new JobFilter()));
    }

    [Fact]
    public async Task Queues_ShowCountsPerState_AndPauseResumeClear()
    {
        await using var store = await MigratedStoreAsync();
        await using var seed = await Seed.StartAsync(store.Url);
        await seed.Client.EnqueueBatchAsync(Seed.Send, Enumerable.Range(0, 3).Select(i => $$"""{"n":{{i}}}"""), new JobOptions { Queue = "mail" });
        await seed.Client.EnqueueAsync(Seed.Send, """{"n":9}""", new JobOptions { Queue = "mail", Delay = TimeSpan.FromHours(1) });
        await seed.Client.EnqueueAsync(Seed.Send, """{"n":10}""", new JobOptions { Queue = "reports" });
        var cli = Cli(store);

        var table = await cli.RunAsync("queues", "--storage", store.Url);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("Scheduled", table.Out);
        var mail = table.Out.Split('\n').Single(l => l.Contains("| mail ", StringComparison.Ordinal));
        Assert.Matches(@"\|\s+1 \|\s+3 \|\s+0 \|", mail);

        var paused = await cli.RunAsync("queues", "pause", "mail", "-s", store.Url);
        Assert.True(paused.ExitCode == 0, paused.ToString());
        Assert.Contains("Paused queue mail.", paused.Out);
        var json = Json(await cli.RunAsync("queues", "-s", store.Url, "-o", "json"));
        var mailJson = json.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "mail");
        Assert.True(mailJson.GetProperty("paused").GetBoolean());
        Assert.Equal(3, mailJson.GetProperty("counts").GetProperty("ready").GetInt64());
        Assert.Equal(1, mailJson.GetProperty("counts").GetProperty("scheduled").GetInt64());

        Assert.Equal(0, (await cli.RunAsync("queues", "resume", "mail", "-s", store.Url)).ExitCode);
        Assert.DoesNotContain(await seed.Admin.GetQueuesAsync(), q => q.Paused);

        var bad = await cli.RunAsync("queues", "pause", "no such queue", "-s", store.Url);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not a valid queue name", bad.Error);

        Assert.Equal(2, (await cli.RunAsync("queues", "clear", "mail", "-s", store.Url)).ExitCode);
        var cleared = await cli.RunAsync("queues", "clear", "mail", "--yes", "-s", store.Url);
        Assert.True(cleared.ExitCode == 0, cleared.ToString());
        Assert.Contains("Deleted 4 waiting job(s) of queue mail.", cleared.Out);
        Assert.Equal(0, await seed.Admin.CountJobsAsync(new JobFilter { Queue = "mail" }));
        Assert.Equal(1, await seed.Admin.CountJobsAsync(new JobFilter { Queue = "reports" }));

        var gone = await cli.RunAsync("queues", "clear", "nope", "--yes", "-s", store.Url);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("queue nope not found", gone.Error);
    }

    [Fact]
    public async Task Schedules_ListPauseResumeAndTrigger()
    {
        await using var store = await MigratedStoreAsync();
        await using var seed = await Seed.StartAsync(store.Url);
        await seed.Schedules.AddOrUpdateAsync(new ScheduleDefinition { Name = "nightly-report", TaskName = Seed.Send.Name, Cron = "0 3 * * *", TimeZone = "Europe/Berlin" });
        await seed.Schedules.AddOrUpdateAsync(new ScheduleDefinition { Name = "poll", TaskName = Seed.Send.Name, Interval = TimeSpan.FromHours(6) });
        var cli = Cli(store);

        var table = await cli.RunAsync("schedules", "list", "-s", store.Url);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("0 3 * * * (Europe/Berlin)", table.Out);
        Assert.Contains("every 6 h", table.Out);

        Assert.Equal(0, (await cli.RunAsync("schedules", "pause", "nightly-report", "-s", store.Url)).ExitCode);
        Assert.True((await seed.Schedules.GetAsync("nightly-report"))!.Paused);
        var json = Json(await cli.RunAsync("schedules", "list", "-s", store.Url, "-o", "json"));
        var nightly = json.GetProperty("schedules").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "nightly-report");
        Assert.True(nightly.GetProperty("paused").GetBoolean());
        Assert.Equal("cron", nightly.GetProperty("kind").GetString());
        Assert.Equal("orders.send", nightly.GetProperty("task").GetString());

        var refused = await cli.RunAsync("schedules", "trigger", "nightly-report", "-s", store.Url);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("it is paused", refused.Error);

        Assert.Equal(0, (await cli.RunAsync("schedules", "resume", "nightly-report", "-s", store.Url)).ExitCode);
        Assert.False((await seed.Schedules.GetAsync("nightly-report"))!.Paused);

        var before = await seed.Schedules.GetAsync("poll");
        var triggered = await cli.RunAsync("schedules", "trigger", "poll", "-s", store.Url);
        Assert.True(triggered.ExitCode == 0, triggered.ToString());
        Assert.Contains("Triggered schedule poll", triggered.Out);
        var after = await seed.Schedules.GetAsync("poll");
        Assert.True(after!.NextRunAt < before!.NextRunAt, $"next run {after.NextRunAt} should move before {before.NextRunAt}");

        var missing = await cli.RunAsync("schedules", "pause", "nope", "-s", store.Url);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("schedule nope not found", missing.Error);
    }

    [Fact]
    public async Task Stats_PrintsFrames_OneJsonObjectPerLine()
    {
        await using var store = await MigratedStoreAsync();
        await using (var seed = await Seed.StartAsync(store.Url))
        {
            await seed.Client.EnqueueBatchAsync(Seed.Send, ["{}", "{}"], new JobOptions { Queue = "stats" });
        }

        var cli = Cli(store);
        var frames = await cli.RunAsync("stats", "--watch", "--count", "3", "--interval", "10ms", "-s", store.Url, "-o", "json");
        Assert.True(frames.ExitCode == 0, frames.ToString());
        var lines = frames.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        foreach (var line in lines)
        {
            var frame = JsonDocument.Parse(line).RootElement;
            var queue = frame.GetProperty("queues").EnumerateArray().Single();
            Assert.Equal("stats", queue.GetProperty("name").GetString());
            Assert.Equal(2, queue.GetProperty("counts").GetProperty("ready").GetInt64());
            Assert.True(frame.TryGetProperty("workers", out _));
        }

        var table = await cli.RunAsync("stats", "-s", store.Url);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("Done/s", table.Out);
        Assert.Contains("| stats ", table.Out);
    }

    [Fact]
    public async Task Doctor_ReportsWorkersWithoutARecentHeartbeat_WithExitCode3()
    {
        await using var store = await MigratedStoreAsync();
        var cli = Cli(store);
        // Server settings are the store's own findings (a test server may run with relaxed durability): only they may show.
        var healthy = Json(await cli.RunAsync("doctor", "-s", store.Url, "-o", "json"));
        var checks = healthy.GetProperty("checks").EnumerateArray().ToList();
        Assert.DoesNotContain(checks, c => c.GetProperty("status").GetString() is "warning" or "error" && c.GetProperty("check").GetString() != "server");
        Assert.Contains(checks, c => c.GetProperty("check").GetString() == "schema" && c.GetProperty("status").GetString() == "ok");
        Assert.Contains(checks, c => c.GetProperty("check").GetString() == "clock" && c.GetProperty("status").GetString() == "ok");
        var serverFindings = checks.Count(c => c.GetProperty("check").GetString() == "server" && c.GetProperty("status").GetString() is "warning" or "error");
        Assert.Equal(serverFindings, healthy.GetProperty("findings").GetInt32());

        // A worker that registered and then went silent (a crash leaves exactly this behind).
        var opened = StorageProviders.Open(store.Url, StorageRoles.Jobs, contentRoot: store.Directory);
        try
        {
            var admin = (IJobAdminStore)opened;
            await admin.WorkersHeartbeatAsync(new WorkersHeartbeatParams(new WorkerRegistration
            {
                Id = "worker-silent", Host = "box-7", ProcessId = 4242, Queues = ["mail"], Concurrency = 4,
            }), CancellationToken.None);
            var registered = (await admin.WorkersListAsync(new WorkersListParams(), CancellationToken.None)).Workers.Single();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (await admin.ClockNowAsync(CancellationToken.None) - registered.LastHeartbeatAt < TimeSpan.FromMilliseconds(50))
            {
                Assert.True(DateTime.UtcNow < deadline, "the store's clock did not move");
                await Task.Delay(10);
            }
        }
        finally
        {
            await OpenedStores.DisposeAsync(opened);
        }

        var stale = await cli.RunAsync("doctor", "--stale-after", "20ms", "-s", store.Url);
        Assert.True(stale.ExitCode == 3, stale.ToString());
        Assert.Contains("worker-silent", stale.Out);
        Assert.Contains("box-7", stale.Out);

        var json = Json(await cli.RunAsync("doctor", "--stale-after", "20ms", "-s", store.Url, "-o", "json"));
        Assert.True(json.GetProperty("findings").GetInt32() >= 1);
        Assert.Contains(json.GetProperty("checks").EnumerateArray(), c => c.GetProperty("code").GetString() == "workers.stale");

        // Within the default minute it is a live worker.
        var recent = await cli.RunAsync("doctor", "-s", store.Url);
        Assert.True(recent.ExitCode == (serverFindings > 0 ? 3 : 0), recent.ToString());
        Assert.Contains("1 worker(s) with a recent heartbeat", recent.Out);
        Assert.DoesNotContain("worker-silent", recent.Out);
    }

    [Fact]
    public async Task Bench_DrainsNoOpJobs_OnAThrowawayArea_AndLeavesTheStoreAlone()
    {
        await using var store = await MigratedStoreAsync();
        var cli = Cli(store);

        var bench = await cli.RunAsync("bench", "--jobs", "300", "--concurrency", "8", "--latency-samples", "20", "-s", store.Url, "-o", "json");
        var result = Json(bench);
        Assert.Equal(300, result.GetProperty("processed").GetInt32());
        Assert.True(result.GetProperty("enqueuePerSecond").GetDouble() > 0);
        Assert.True(result.GetProperty("processPerSecond").GetDouble() > 0);
        Assert.True(result.GetProperty("latencyP50Ms").GetDouble() <= result.GetProperty("latencyP99Ms").GetDouble());

        var queues = Json(await cli.RunAsync("queues", "-s", store.Url, "-o", "json"));
        Assert.Empty(queues.GetProperty("queues").EnumerateArray());
    }
}
