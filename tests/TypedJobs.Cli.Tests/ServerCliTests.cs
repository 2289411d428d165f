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
        var cli = Cli(store);

        var gate = await cli.RunAsync("migrate", "status", "--show-sql", "-s", store.Url);
        Assert.True(gate.ExitCode == 3, gate.ToString());
        Assert.Contains("CREATE TABLE", gate.Out, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(0, (await cli.RunAsync("migrate", "-s", store.Url)).ExitCode);
        var passed = await cli.RunAsync("validate", "-s", store.Url);
        Assert.True(passed.ExitCode == 0, passed.ToString());

        var doctor = Json(await cli.RunAsync("doctor", "-s", store.Url, "-o", "json"));
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
