using System.Text.Json;
using TypedJobs.Cli.Tests.Support;

namespace TypedJobs.Cli.Tests;

/// <summary>Every command against the PostgreSQL server ./test.sh starts, a fresh schema per test.</summary>
public sealed class PostgresCliTests : CliStoreTests
{
    protected override Task<ITestStore> CreateStoreAsync() => Task.FromResult<ITestStore>(new PostgresStore());

    [Fact]
    public async Task MigrateStatus_GatesOnAFreshSchema_ShowsTheSql_AndDoctorReportsTheServer()
    {
        await using var store = await CreateStoreAsync();
        var doctor = await MigrateGateThenDoctorAsync(store);
        Assert.Contains(doctor.GetProperty("checks").EnumerateArray(), c => c.GetProperty("code").GetString() == "postgres.version");
    }
}

/// <summary>Every command against the Redis server ./test.sh starts, a fresh key prefix per test.</summary>
public sealed class RedisCliTests : CliStoreTests
{
    protected override Task<ITestStore> CreateStoreAsync() => Task.FromResult<ITestStore>(new RedisStore());

    [Fact]
    public async Task Doctor_ReportsRedisPersistenceAndEvictionSettings()
    {
        await using var store = await MigratedStoreAsync();

        var result = await Cli(store).RunAsync("doctor", "-s", store.Url, "-o", "json");
        var checks = JsonDocument.Parse(result.Out).RootElement.GetProperty("checks").EnumerateArray().ToList();
        var server = checks.Where(c => c.GetProperty("check").GetString() == "server").Select(c => c.GetProperty("code").GetString()).ToList();
        Assert.Contains("redis.version", server);

        // The test server (eng/servers/redis.sh) runs AOF with appendfsync everysec and the default noeviction policy.
        Assert.Contains("redis.appendfsync", server);
        Assert.DoesNotContain("redis.maxmemory-policy", server);
        Assert.True(result.ExitCode == 3, result.ToString());
    }
}

/// <summary>Every command against the MariaDB server ./test.sh starts, a fresh database per test.</summary>
public sealed class MySqlCliTests : CliStoreTests
{
    protected override Task<ITestStore> CreateStoreAsync() => Task.FromResult<ITestStore>(new MySqlStore());

    [Fact]
    public async Task MigrateStatus_GatesOnAFreshDatabase_ShowsTheSql_AndDoctorReportsTheServer()
    {
        await using var store = await CreateStoreAsync();
        var doctor = await MigrateGateThenDoctorAsync(store);
        var checks = doctor.GetProperty("checks").EnumerateArray().ToList();
        Assert.Contains(checks, c => c.GetProperty("check").GetString() == "schema" && c.GetProperty("status").GetString() == "ok");
        Assert.Contains(checks, c => c.GetProperty("code").GetString() == "mysql.version");
    }
}

/// <summary>
/// The NATS store holds results, events and schedules but no jobs: the commands against an application that keeps its
/// jobs in SQLite and the other roles on the NATS server ./test.sh starts, and the error for a NATS URL as the jobs store.
/// </summary>
public sealed class NatsCliTests
{
    private static CliRunner Cli(NatsStore store) => new() { WorkingDirectory = store.Directory, Variables = store.Variables };

    private static async Task<NatsStore> MigratedStoreAsync()
    {
        var store = new NatsStore();
        var migrate = await Cli(store).RunAsync("migrate");
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        return store;
    }

    [Fact]
    public async Task JobsCommands_OnANatsUrl_StopWithOneErrorNamingTheRolesItHolds()
    {
        await using var store = new NatsStore();
        var cli = new CliRunner { WorkingDirectory = store.Directory };
        foreach (var args in new[] { new[] { "jobs", "list" }, ["jobs", "show", JobId.New().ToString()], ["queues"], ["schedules", "list"], ["migrate"] })
        {
            var result = await cli.RunAsync([.. args, "--storage", store.NatsUrl]);
            Assert.True(result.ExitCode == 2, result.ToString());
            var error = result.Error.Trim();
            Assert.Single(error.Split('\n'));
            Assert.Contains("cannot hold the Jobs role", error);
            Assert.Contains("TypedJobs__Storage__Jobs", error);
            Assert.DoesNotContain("Exception", error);
        }
    }

    [Fact]
    public async Task MigrateValidateAndDoctor_CoverBothBackends()
    {
        await using var store = new NatsStore();
        var cli = Cli(store);

        var migrate = await cli.RunAsync("migrate");
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        var validate = await cli.RunAsync("validate");
        Assert.True(validate.ExitCode == 0, validate.ToString());

        var doctor = await cli.RunAsync("doctor", "-o", "json");
        Assert.True(doctor.ExitCode is 0 or 3, doctor.ToString());
        var text = doctor.Out;
        Assert.Contains(store.Prefix, text);
        var checks = JsonDocument.Parse(text).RootElement.GetProperty("checks").EnumerateArray().ToList();
        Assert.DoesNotContain(checks, c => c.GetProperty("status").GetString() == "error");
    }

    [Fact]
    public async Task JobsShow_ReadsTheEventHistoryFromNats()
    {
        await using var store = await MigratedStoreAsync();
        JobId id;
        await using (var seed = await Seed.StartAsync(store.Variables, worker: true))
        {
            id = await seed.Client.EnqueueAsync(Seed.Broken, """{"order":7}""");
            await seed.WaitForStateAsync(id, JobState.Dead);
        }

        var json = await Cli(store).RunAsync("jobs", "show", id.ToString(), "-o", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var shown = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal("dead", shown.GetProperty("job").GetProperty("state").GetString());
        var kinds = shown.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Contains("started", kinds);
        Assert.Contains(kinds, k => k is "dead" or "failed");
    }

    [Fact]
    public async Task Schedules_ListPauseResumeAndTrigger_OnNats()
    {
        await using var store = await MigratedStoreAsync();
        await using var seed = await Seed.StartAsync(store.Variables);
        await seed.Schedules.AddOrUpdateAsync(new ScheduleDefinition { Name = "nightly-report", TaskName = Seed.Send.Name, Cron = "0 3 * * *", TimeZone = "Europe/Berlin" });
        await seed.Schedules.AddOrUpdateAsync(new ScheduleDefinition { Name = "poll", TaskName = Seed.Send.Name, Interval = TimeSpan.FromHours(6) });
        var cli = Cli(store);

        var table = await cli.RunAsync("schedules", "list");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("0 3 * * * (Europe/Berlin)", table.Out);
        Assert.Contains("every 6 h", table.Out);

        Assert.Equal(0, (await cli.RunAsync("schedules", "pause", "nightly-report")).ExitCode);
        Assert.True((await seed.Schedules.GetAsync("nightly-report"))!.Paused);
        Assert.Equal(0, (await cli.RunAsync("schedules", "resume", "nightly-report")).ExitCode);
        Assert.False((await seed.Schedules.GetAsync("nightly-report"))!.Paused);

        var before = await seed.Schedules.GetAsync("poll");
        var triggered = await cli.RunAsync("schedules", "trigger", "poll");
        Assert.True(triggered.ExitCode == 0, triggered.ToString());
        var after = await seed.Schedules.GetAsync("poll");
        Assert.True(after!.NextRunAt < before!.NextRunAt, $"next run {after.NextRunAt} should move before {before.NextRunAt}");
    }
}
