using System.Text.Json;
using TypedJobs.Cli.Tests.Support;

namespace TypedJobs.Cli.Tests;

/// <summary>Every command against a real SQLite file.</summary>
public sealed class SqliteCliTests : CliStoreTests
{
    protected override Task<ITestStore> CreateStoreAsync() => Task.FromResult<ITestStore>(new SqliteStore());

    [Fact]
    public async Task Validate_And_MigrateStatus_Exit3_WhileMigrationsArePending_ThenMigrateApplies()
    {
        await using var store = new SqliteStore();
        var cli = Cli(store);

        var gate = await cli.RunAsync("validate", "--storage", store.Url);
        Assert.True(gate.ExitCode == 3, gate.ToString());
        Assert.Contains("migration(s) pending: run 'typedjobs migrate'", gate.Out);

        var status = await cli.RunAsync("migrate", "status", "--storage", store.Url, "--output", "json");
        Assert.Equal(3, status.ExitCode);
        var document = JsonDocument.Parse(status.Out).RootElement;
        var pending = document.GetProperty("pending").GetInt32();
        Assert.True(pending >= 1);
        var backend = document.GetProperty("backends")[0];
        Assert.Equal(0, backend.GetProperty("currentVersion").GetInt32());
        Assert.Equal(pending, backend.GetProperty("pending").GetArrayLength());

        var dryRun = await cli.RunAsync("migrate", "--dry-run", "--show-sql", "--storage", store.Url);
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains("dry run, nothing changed", dryRun.Out);
        Assert.Contains("CREATE TABLE", dryRun.Out, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(3, (await cli.RunAsync("validate", "--storage", store.Url)).ExitCode);

        var migrate = await cli.RunAsync("migrate", "--storage", store.Url);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        Assert.Contains($"applied {pending} migration(s)", migrate.Out);

        var passed = await cli.RunAsync("validate", "--storage", store.Url);
        Assert.True(passed.ExitCode == 0, passed.ToString());
        Assert.Contains("OK: configuration valid, storage reachable, schema current.", passed.Out);
        Assert.Equal(0, (await cli.RunAsync("migrate", "status", "--storage", store.Url)).ExitCode);
        Assert.Contains("is current, nothing to apply", (await cli.RunAsync("migrate", "--storage", store.Url)).Out);
    }

    [Fact]
    public async Task Doctor_ReportsWaitingJobsOfTasksNoContractOrWorkerKnows()
    {
        await using var store = await MigratedStoreAsync();
        var cli = Cli(store);
        await using (var seed = await Seed.StartAsync(store.Url))
        {
            await seed.Client.EnqueueAsync(Seed.Send, """{"order":1}""");
            await seed.Client.EnqueueAsync(Seed.Broken, """{"order":2}""", new JobOptions { Queue = "payments" });
            await seed.Client.EnqueueAsync(Seed.Broken, """{"order":3}""", new JobOptions { Queue = "payments", Delay = TimeSpan.FromHours(1) });
        }

        // Without a contract and without workers that list their tasks there is nothing to check against.
        var notChecked = Json(await cli.RunAsync("doctor", "-s", store.Url, "-o", "json"));
        Assert.Contains(notChecked.GetProperty("checks").EnumerateArray(),
            c => c.GetProperty("check").GetString() == "contracts" && c.GetProperty("status").GetString() == "info");

        // The deployed service's baseline knows orders.send only: the two orders.broken jobs are reported.
        var baseline = Path.Combine(store.Directory, "TypedJobs.contract.json");
        await File.WriteAllTextAsync(baseline, """{ "format": 1, "tasks": { "orders.send": { "queue": "default", "parameters": [] } } }""");
        var result = await cli.RunAsync("doctor", "-s", store.Url, "--contract", baseline, "-o", "json");
        Assert.True(result.ExitCode == 3, result.ToString());
        var unknown = Json(result).GetProperty("checks").EnumerateArray()
            .Where(c => c.GetProperty("code").ValueKind == JsonValueKind.String && c.GetProperty("code").GetString() == "contracts.unknown-task").ToList();
        var finding = Assert.Single(unknown);
        Assert.Equal("warning", finding.GetProperty("status").GetString());
        Assert.Contains("2 waiting job(s) of task 'orders.broken' in payments", finding.GetProperty("message").GetString(), StringComparison.Ordinal);

        // A baseline that knows both tasks: nothing to report.
        await File.WriteAllTextAsync(baseline, """{ "format": 1, "tasks": { "orders.send": {}, "orders.broken": {} } }""");
        var known = await cli.RunAsync("doctor", "-s", store.Url, "--contract", baseline);
        Assert.Contains("every waiting job's task is known (3 job(s) checked", known.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("contracts.unknown-task", known.Out, StringComparison.Ordinal);

        // A file that is not there is a usage error naming the option.
        var missing = await cli.RunAsync("doctor", "-s", store.Url, "--contract", Path.Combine(store.Directory, "nope.json"));
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Contains("--contract", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_RefuseAStoreWithoutSchema_AndDoctorReportsIt()
    {
        await using var store = new SqliteStore();
        var cli = Cli(store);

        var queues = await cli.RunAsync("queues", "--storage", store.Url);
        Assert.Equal(1, queues.ExitCode);
        Assert.Contains("has no TypedJobs schema", queues.Error);
        Assert.Contains("typedjobs migrate", queues.Error);

        var doctor = await cli.RunAsync("doctor", "--storage", store.Url, "-o", "json");
        Assert.Equal(3, doctor.ExitCode);
        var checks = JsonDocument.Parse(doctor.Out).RootElement.GetProperty("checks");
        Assert.Contains(checks.EnumerateArray(), c => c.GetProperty("code").GetString() == "schema.missing");
    }

    [Fact]
    public async Task Doctor_ReportsClockSkewBetweenThisMachineAndTheStore()
    {
        await using var store = await MigratedStoreAsync();

        var behind = await new CliRunner { WorkingDirectory = store.Directory, Time = new OffsetClock(TimeSpan.FromMinutes(-10)) }
            .RunAsync("doctor", "-s", store.Url, "-o", "json");
        Assert.True(behind.ExitCode == 3, behind.ToString());
        var clock = JsonDocument.Parse(behind.Out).RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == "clock");
        Assert.Equal("warning", clock.GetProperty("status").GetString());
        Assert.Equal("clock.skew", clock.GetProperty("code").GetString());
        Assert.Contains("store clock +10 min from this machine", clock.GetProperty("message").GetString());

        var allowed = await new CliRunner { WorkingDirectory = store.Directory, Time = new OffsetClock(TimeSpan.FromMinutes(-10)) }
            .RunAsync("doctor", "-s", store.Url, "--max-clock-skew", "1h");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
    }

    [Fact]
    public async Task Storage_ComesFromTheEnvironment_OrAppsettingsJson_AndIsRequired()
    {
        await using var store = await MigratedStoreAsync();

        var fromEnvironment = await new CliRunner
        {
            WorkingDirectory = store.Directory,
            Variables = { ["TypedJobs__Storage"] = store.Url },
        }.RunAsync("queues", "-o", "json");
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());

        // Relative paths resolve against the working directory, as a host's content root.
        await File.WriteAllTextAsync(Path.Combine(store.Directory, "appsettings.json"), """{ "TypedJobs": { "Storage": "sqlite:jobs.db" } }""");
        var fromFile = await Cli(store).RunAsync("validate");
        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
        Assert.Contains("sqlite:jobs.db", fromFile.Out);

        var empty = Directory.CreateTempSubdirectory("typedjobs-cli-empty-").FullName;
        try
        {
            var none = await new CliRunner { WorkingDirectory = empty }.RunAsync("queues");
            Assert.Equal(2, none.ExitCode);
            Assert.Contains("no storage: give --storage URL", none.Error);
            Assert.Empty(Directory.GetFiles(empty));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task BulkAction_OnATerminal_AsksFirst_AndShowsProgress()
    {
        await using var store = await MigratedStoreAsync();
        await using (var seed = await Seed.StartAsync(store.Url))
        {
            await seed.Client.EnqueueBatchAsync(Seed.Send, Enumerable.Range(0, 10).Select(i => $$"""{"n":{{i}}}"""));
        }

        var declined = await new CliRunner { WorkingDirectory = store.Directory, Terminal = true, Input = "n\n" }
            .RunAsync("jobs", "delete", "--state", "ready", "-s", store.Url);
        Assert.Equal(1, declined.ExitCode);
        Assert.Contains("Delete 10 job(s) matching state=ready? [y/N]", declined.Out);
        Assert.Contains("not confirmed; nothing changed", declined.Error);

        var accepted = await new CliRunner { WorkingDirectory = store.Directory, Terminal = true, Input = "y\n", Variables = { ["NO_COLOR"] = "1" } }
            .RunAsync("jobs", "delete", "--state", "ready", "-s", store.Url);
        Assert.True(accepted.ExitCode == 0, accepted.ToString());
        Assert.Contains("Deleted 10 job(s) matching state=ready.", accepted.Out);
        Assert.Contains("100%", accepted.Out);
    }

    [Fact]
    public async Task StatsWatch_OnATerminal_RedrawsOneLiveTable()
    {
        await using var store = await MigratedStoreAsync();
        await using (var seed = await Seed.StartAsync(store.Url))
        {
            await seed.Client.EnqueueBatchAsync(Seed.Send, ["{}"], new JobOptions { Queue = "live" });
        }

        var watch = await new CliRunner { WorkingDirectory = store.Directory, Terminal = true }
            .RunAsync("stats", "--watch", "--count", "3", "--interval", "10ms", "-s", store.Url);
        Assert.True(watch.ExitCode == 0, watch.ToString());
        Assert.Contains("live", watch.Out);
        Assert.Contains("Done/s", watch.Out);
        // Redrawn in place: the cursor moves up over the previous frame instead of printing frames one after another.
        Assert.Contains("\u001b[", watch.Out);
        Assert.Matches(@"\u001b\[\d+A", watch.Out);
    }

    [Fact]
    public async Task Colours_OnlyOnATerminal_WithoutNoColor()
    {
        await using var store = new SqliteStore();
        const string Escape = "\u001b[";

        var redirected = await Cli(store).RunAsync("queues", "-s", store.Url);
        Assert.DoesNotContain(Escape, redirected.Error + redirected.Out);

        var terminal = await new CliRunner { WorkingDirectory = store.Directory, Terminal = true }.RunAsync("queues", "-s", store.Url);
        Assert.Contains(Escape, terminal.Error);

        var noColor = await new CliRunner { WorkingDirectory = store.Directory, Terminal = true, Variables = { ["NO_COLOR"] = "1" } }
            .RunAsync("queues", "-s", store.Url);
        Assert.Equal(1, noColor.ExitCode);
        Assert.DoesNotContain(Escape, noColor.Error + noColor.Out);
    }

    [Fact]
    public async Task Secrets_NeverReachTheOutput()
    {
        var cli = new CliRunner();
        foreach (var url in new[] { "postgres://app:s3cr3t-pw@127.0.0.1:1/jobs", "redis://:s3cr3t-pw@127.0.0.1:1", "mysql://app:s3cr3t-pw@127.0.0.1:1/jobs" })
        {
            foreach (var command in new[] { "queues", "validate", "doctor" })
            {
                var result = await cli.RunAsync(command, "--storage", url);
                Assert.NotEqual(0, result.ExitCode);
                Assert.DoesNotContain("s3cr3t-pw", result.Out + result.Error);
                Assert.Single(result.Error.Trim().Split('\n'));
            }
        }
    }

    [Fact]
    public async Task UsageErrors_Exit2_WithOneClearLine()
    {
        await using var store = await MigratedStoreAsync();
        var cli = Cli(store);

        var format = await cli.RunAsync("queues", "-s", store.Url, "--output", "xml");
        Assert.Equal(2, format.ExitCode);
        Assert.Contains("--output 'xml' is not a format: use table or json", format.Error);

        var state = await cli.RunAsync("jobs", "list", "-s", store.Url, "--state", "sleeping");
        Assert.Equal(2, state.ExitCode);
        Assert.Contains("--state 'sleeping' is not a state: use one of scheduled, ready, running, succeeded, dead, cancelled", state.Error);

        var limit = await cli.RunAsync("jobs", "list", "-s", store.Url, "--limit", "0");
        Assert.Equal(2, limit.ExitCode);
        Assert.Contains("--limit 0 is out of range", limit.Error);

        var unknown = await cli.RunAsync("jobz", "-s", store.Url);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--help", unknown.Error);

        var scheme = await cli.RunAsync("queues", "-s", "nosuch://x");
        Assert.Equal(1, scheme.ExitCode);
        Assert.Contains("nosuch", scheme.Error);
        Assert.Contains("installed:", scheme.Error);

        var help = await cli.RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "migrate", "validate", "jobs", "queues", "schedules", "stats", "doctor", "bench" })
        {
            Assert.Contains(command, help.Out);
        }
    }
}
